"""What a photo carries besides its pixels: EXIF (camera, date, copyright, GPS), XMP and the ICC colour profile.

OpenCV drops them all, so a copyright notice would be lost and a wide-gamut photo (Display P3, Adobe RGB) shown
as if it were sRGB. Pillow reads them (without decoding the pixels); they are written into the bytes OpenCV
encodes, so the pixels, the quality and 16 bits stay OpenCV's: JPEG (APP1 and APP2 segments), PNG (eXIf, iCCP
and iTXt chunks) and WebP (EXIF, ICCP and XMP chunks). TIFF and BMP outputs carry none.
"""
import struct
import zlib
from dataclasses import dataclass

from PIL import Image

ORIENTATION = 0x0112  # The EXIF tag of the rotation viewers apply; the pixels written are already upright.
EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
ICC_HEADER = b"ICC_PROFILE\x00"
SEGMENT = 65533  # Bytes a JPEG segment holds after its length.


@dataclass(frozen=True)
class Metadata:
    """EXIF as a TIFF structure (no "Exif" header), the ICC profile and the XMP packet, each bytes or None."""
    exif: bytes = None
    icc: bytes = None
    xmp: bytes = None


def read_metadata(path):
    """The Metadata of an image file, with EXIF's orientation set to 1 (upright); None when it carries none or
    Pillow cannot read it (the pixels are OpenCV's business)."""
    try:
        with Image.open(path) as image:
            info, exif = image.info, image.getexif()
    except Exception:  # Pillow raises many kinds for a file it cannot parse; the photo itself may still decode.
        return None
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if exif:
        exif[ORIENTATION] = 1
        exif = exif.tobytes()
        exif = exif[len(EXIF_HEADER):] if exif.startswith(EXIF_HEADER) else exif
    found = Metadata(exif or None, info.get("icc_profile") or None, xmp.encode() if isinstance(xmp, str) else xmp)
    return found if any((found.exif, found.icc, found.xmp)) else None


def embed(encoded, codec, metadata, width, height):
    """`encoded` (an image file's bytes in the format `codec`: ".jpg", ".png", ".webp" ...) with `metadata`
    written into it; other formats are returned as they are."""
    if metadata is None:
        return encoded
    if codec == ".jpg":
        return embed_jpeg(encoded, metadata)
    if codec == ".png":
        return embed_png(encoded, metadata)
    if codec == ".webp":
        return embed_webp(encoded, metadata, width, height)
    return encoded


def jpeg_segment(marker, payload):
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload


def embed_jpeg(encoded, metadata):
    """APP1 EXIF and XMP and APP2 ICC (in chunks of a segment's size) after the JFIF segment OpenCV writes."""
    segments = []
    if metadata.exif and len(EXIF_HEADER + metadata.exif) <= SEGMENT:
        segments.append(jpeg_segment(0xE1, EXIF_HEADER + metadata.exif))
    if metadata.xmp and len(XMP_HEADER + metadata.xmp) <= SEGMENT:
        segments.append(jpeg_segment(0xE1, XMP_HEADER + metadata.xmp))
    if metadata.icc:
        size = SEGMENT - len(ICC_HEADER) - 2
        chunks = [metadata.icc[i:i + size] for i in range(0, len(metadata.icc), size)]
        segments += [jpeg_segment(0xE2, ICC_HEADER + bytes([n + 1, len(chunks)]) + chunk)
                     for n, chunk in enumerate(chunks)]
    at = 2  # After SOI, and after an APP0 (JFIF) segment there.
    if encoded[2:4] == b"\xff\xe0":
        at = 4 + struct.unpack(">H", encoded[4:6])[0]
    return encoded[:at] + b"".join(segments) + encoded[at:]


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def embed_png(encoded, metadata):
    """iCCP, eXIf and iTXt (XMP) chunks after IHDR, where PNG wants them: before the image data."""
    chunks = []
    if metadata.icc:
        chunks.append(png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(metadata.icc)))
    if metadata.exif:
        chunks.append(png_chunk(b"eXIf", metadata.exif))
    if metadata.xmp:
        chunks.append(png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + metadata.xmp))
    at = 8 + 8 + struct.unpack(">I", encoded[8:12])[0] + 4  # Signature, then IHDR: length, type, data, CRC.
    return encoded[:at] + b"".join(chunks) + encoded[at:]


def webp_chunk(kind, payload):
    return kind + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) % 2 else b"")


def embed_webp(encoded, metadata, width, height):
    """The extended format: VP8X (with the flags of what follows), ICCP, the image chunks, EXIF, XMP."""
    chunks, at = [], 12
    while at + 8 <= len(encoded):
        size = struct.unpack("<I", encoded[at + 4:at + 8])[0]
        chunks.append((encoded[at:at + 4], encoded[at + 8:at + 8 + size]))
        at += 8 + size + size % 2
    image = [(kind, payload) for kind, payload in chunks if kind in (b"ALPH", b"VP8 ", b"VP8L")]
    alpha = any(kind == b"ALPH" for kind, _ in image) or any(
        kind == b"VP8L" and payload[4] & 0x10 for kind, payload in image)  # VP8L's alpha-is-used bit.
    flags = (0x20 if metadata.icc else 0) | (0x10 if alpha else 0) | (0x08 if metadata.exif else 0) | (
        0x04 if metadata.xmp else 0)
    vp8x = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = [webp_chunk(b"VP8X", vp8x)]
    body += [webp_chunk(b"ICCP", metadata.icc)] if metadata.icc else []
    body += [webp_chunk(kind, payload) for kind, payload in image]
    body += [webp_chunk(b"EXIF", metadata.exif)] if metadata.exif else []
    body += [webp_chunk(b"XMP ", metadata.xmp)] if metadata.xmp else []
    content = b"WEBP" + b"".join(body)
    return b"RIFF" + struct.pack("<I", len(content)) + content
