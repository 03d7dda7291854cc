"""QR codes of survey links: real PNG and SVG images that encode the link's public address."""

from __future__ import annotations

import struct
import zlib
from xml.etree import ElementTree

import pytest
import segno

from tests.conftest import Caller, MakeCaller
from tests.distribution.conftest import new_survey
from touchpoints.auth.permissions import Role

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def add_link(admin: Caller, survey_id: str, channel: str = "store") -> dict[str, str]:
    """Add a public link to a survey; return it."""
    created = admin.http.post(f"/api/v1/surveys/{survey_id}/links", json={"channel": channel})
    assert created.status_code == 201, created.text
    link: dict[str, str] = created.json()
    return link


def png_pixels(data: bytes) -> tuple[int, int, list[list[int]]]:
    """Decode a 1-bit greyscale PNG (what segno writes): width, height and rows of 0/1 pixels."""
    assert data[:8] == PNG_SIGNATURE
    offset, chunks = 8, {}
    idat = b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        content = data[offset + 8 : offset + 8 + length]
        crc = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])[0]
        assert zlib.crc32(kind + content) == crc, f"{kind!r} chunk is corrupt"
        chunks[kind] = content
        idat += content if kind == b"IDAT" else b""
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour, interlace) == (1, 0, 0)
    stride = (width + 7) // 8
    raw = zlib.decompress(idat)
    rows: list[list[int]] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for x in range(stride):
            left = line[x - 1] if x else 0
            up, corner = previous[x], previous[x - 1] if x else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                nearest = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + nearest) & 0xFF
        rows.append([(line[x // 8] >> (7 - x % 8)) & 1 for x in range(width)])
        previous = line
    return width, height, rows


def modules(rows: list[list[int]], *, scale: int, border: int, size: int) -> list[list[bool]]:
    """Read the QR matrix back from the pixels: the centre of each module, dark = True."""
    centre = scale // 2
    return [
        [
            rows[(border + r) * scale + centre][(border + c) * scale + centre] == 0
            for c in range(size)
        ]
        for r in range(size)
    ]


def test_the_png_decodes_to_the_qr_matrix_of_the_link_address(committed_admin: Caller) -> None:
    survey_id = new_survey(committed_admin)
    link = add_link(committed_admin, survey_id)
    url = f"/api/v1/surveys/{survey_id}/links/{link['id']}/qr.png"

    answer = committed_admin.http.get(url, params={"scale": 4, "border": 2})

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png"
    width, height, rows = png_pixels(answer.content)
    public = f"http://127.0.0.1:8000/s/{link['token']}"
    expected = segno.make(public, error="m", micro=False)
    size = len(expected.matrix)
    assert (width, height) == ((size + 4) * 4, (size + 4) * 4)
    wanted = [[bool(module) for module in row] for row in expected.matrix]
    assert modules(rows, scale=4, border=2, size=size) == wanted
    assert all(pixel == 1 for pixel in rows[0]), "the quiet zone is light"


def test_the_svg_is_valid_xml_with_a_path(committed_admin: Caller) -> None:
    survey_id = new_survey(committed_admin)
    link = add_link(committed_admin, survey_id)

    answer = committed_admin.http.get(
        f"/api/v1/surveys/{survey_id}/links/{link['id']}/qr.svg", params={"scale": 3}
    )

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(answer.content)
    assert root.tag == f"{SVG}svg"
    size = len(segno.make(f"http://127.0.0.1:8000/s/{link['token']}", error="m").matrix)
    assert int(root.attrib["width"]) == (size + 8) * 3
    [path] = root.iter(f"{SVG}path")
    assert path.attrib["d"].startswith("M")
    title = root.find(f"{SVG}title")
    assert title is not None and link["token"] in (title.text or "")


@pytest.mark.parametrize(
    ("params", "field"),
    [({"scale": 0}, "scale"), ({"scale": 41}, "scale"), ({"border": 17}, "border")],
)
def test_sizes_outside_the_bounds_are_refused(
    committed_admin: Caller, params: dict[str, int], field: str
) -> None:
    survey_id = new_survey(committed_admin)
    link = add_link(committed_admin, survey_id)
    answer = committed_admin.http.get(
        f"/api/v1/surveys/{survey_id}/links/{link['id']}/qr.png", params=params
    )
    assert answer.status_code == 422
    assert field in answer.text


def test_links_of_other_surveys_and_workspaces_are_not_found(
    committed_admin: Caller, make_caller: MakeCaller
) -> None:
    survey_id = new_survey(committed_admin)
    other_survey = new_survey(committed_admin)
    link = add_link(committed_admin, survey_id)
    mixed = committed_admin.http.get(f"/api/v1/surveys/{other_survey}/links/{link['id']}/qr.svg")
    assert mixed.status_code == 404
    stranger = make_caller(Role.ADMIN)
    elsewhere = stranger.http.get(f"/api/v1/surveys/{survey_id}/links/{link['id']}/qr.svg")
    assert elsewhere.status_code == 404
    assert elsewhere.headers["content-type"].startswith("application/problem+json")
