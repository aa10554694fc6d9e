"""Lot photos: judged by content, ≤ 10 MB, at most 8, re-encoded without EXIF, thumbnailed."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from recycling import services
from recycling.models import LotPhoto
from tests import factories

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


def jpeg_with_gps(size=(1200, 900)) -> bytes:
    image = Image.new("RGB", size, (120, 130, 140))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 1  # orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (45.0, 45.0, 25.0), 3: "E", 4: (126.0, 38.0, 32.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bytes(size=(300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 10)).save(out, "PNG")
    return out.getvalue()


def _upload(api, user, lot, name, content, content_type="image/jpeg"):
    return api.as_user(user).post(
        f"/api/v1/lots/{lot.pk}/photos/",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )


def test_photo_is_reencoded_without_exif_and_gets_a_thumbnail(api, collector):
    lot = factories.make_lot(seller=collector)
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test image carries GPS

    response = _upload(api, collector, lot, "IMG_0001.jpg", original)

    assert response.status_code == 201, response.content
    photo = LotPhoto.objects.get(lot=lot)
    with photo.image.open("rb") as fh:
        stored = Image.open(io.BytesIO(fh.read()))
        assert stored.format == "JPEG"
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info
    with photo.thumbnail.open("rb") as fh:
        thumb = Image.open(io.BytesIO(fh.read()))
        assert max(thumb.size) == 400
    assert (photo.width, photo.height) == (1200, 900)
    assert "IMG_0001" not in photo.image.name


def test_png_is_accepted_and_stored_as_jpeg(api, collector):
    lot = factories.make_lot(seller=collector)
    assert _upload(api, collector, lot, "a.png", png_bytes(), "image/png").status_code == 201
    assert LotPhoto.objects.get(lot=lot).image.name.endswith(".jpg")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.jpg", b"this is plain text pretending to be a photo\n" * 10),
        ("doc.png", b"%PDF-1.4\n1 0 obj\n%%EOF\n"),
        ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200),
    ],
)
def test_files_that_are_not_images_are_refused(api, collector, name, content):
    lot = factories.make_lot(seller=collector)
    response = _upload(api, collector, lot, name, content)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_image")
    assert not LotPhoto.objects.exists()


def test_oversized_photo_is_refused(api, collector, settings):
    settings.MAX_UPLOAD_BYTES = 50_000
    lot = factories.make_lot(seller=collector)
    big = jpeg_with_gps((2000, 2000))
    assert len(big) > 50_000 or pytest.fail("test image too small")
    response = _upload(api, collector, lot, "big.jpg", big + b"\x00" * 60_000)
    assert (response.status_code, response.json()["code"]) == (400, "file_too_large")
    assert not LotPhoto.objects.exists()


def test_at_most_eight_photos(api, collector):
    lot = factories.make_lot(seller=collector)
    for n in range(8):
        assert _upload(api, collector, lot, f"{n}.png", png_bytes(), "image/png").status_code == 201
    response = _upload(api, collector, lot, "9.png", png_bytes(), "image/png")
    assert (response.status_code, response.json()["code"]) == (409, "too_many_photos")
    assert LotPhoto.objects.filter(lot=lot).count() == 8


def test_only_the_seller_adds_photos_and_only_while_editable(api, collector, processor, coop_admin):
    lot = factories.make_lot(seller=collector)
    assert _upload(api, processor, lot, "a.png", png_bytes(), "image/png").status_code == 404
    published = factories.make_lot(seller=collector, status="scheduled")
    response = _upload(api, collector, published, "a.png", png_bytes(), "image/png")
    assert (response.status_code, response.json()["code"]) == (409, "not_editable")


def test_draft_photos_are_private_published_photos_public(api, client, collector):
    lot = factories.make_lot(seller=collector)
    _upload(api, collector, lot, "a.png", png_bytes(), "image/png")
    photo = LotPhoto.objects.get(lot=lot)
    url = f"/lots/photos/{photo.pk}/thumb/"
    assert APIClient().get(url).status_code == 404
    client.force_login(collector)
    assert client.get(url).status_code == 200

    services.lot_submit(actor=collector, lot_id=lot.pk)
    services.lot_review(actor=factories.make_admin(), lot_id=lot.pk, decision="approve")
    response = APIClient().get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_delete_photo(api, collector):
    lot = factories.make_lot(seller=collector)
    _upload(api, collector, lot, "a.png", png_bytes(), "image/png")
    photo = LotPhoto.objects.get(lot=lot)
    response = api.as_user(collector).delete(f"/api/v1/lots/{lot.pk}/photos/{photo.pk}/")
    assert response.status_code == 204
    assert not LotPhoto.objects.exists()
