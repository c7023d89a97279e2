"""Ids and numbers in admin URLs: only ASCII digits within an integer column; anything else is a
clear 400 or 404, never a 500 and never another row."""

import pytest

Q = "/admin/consultations/mobilite"


@pytest.mark.parametrize(("role", "path", "status"), [
    ("official", "/admin/associations/" + "9" * 24, 404),
    ("official", "/admin/associations/\u0663", 404),
    ("official", "/admin/associations/\u00b2", 404),
    ("official", "/admin/associations/2147483648", 404),
    ("official", f"{Q}/retours?envoye=\u00b2", 200),  # a notice number that names nothing
    ("official", f"{Q}/retours?envoye=" + "9" * 24, 200),
    ("official", f"{Q}/questions/probleme?page=\u0663", 400),
    ("official", f"{Q}/questions/probleme?page=0", 400),
    ("official", f"{Q}/questions/probleme?association=\u0663", 400),
    ("official", f"{Q}/questions/probleme?association=" + "9" * 24, 400),
])
async def test_malformed_numbers_get_a_clear_answer(as_role, role, path, status):
    web = await as_role(role)
    response = await web.get(path)
    assert response.status == status, await response.text()
