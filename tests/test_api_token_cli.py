"""``flask create-api-token``: the token it prints is the one the API accepts."""

from __future__ import annotations


def test_a_printed_token_opens_the_api(runner, client, make_admin, make_candidate):
    make_admin("office@efrs.example")
    candidate = make_candidate("Ярослава Шевчук", email="yaroslava@example.ua", country="UA")
    result = runner.invoke(args=["create-api-token", "office@efrs.example", "--label", "LMS"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]

    response = client.get(
        f"/api/v1/candidates/{candidate.id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.get_json()["full_name"] == "Ярослава Шевчук"
    created = client.post(
        "/api/v1/candidates",
        json={"email": "new@example.org", "full_name": "Nguyễn Văn An"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201


def test_each_token_is_new(runner, make_admin):
    make_admin("office@efrs.example")
    tokens = {
        runner.invoke(args=["create-api-token", "office@efrs.example"]).output.splitlines()[-1]
        for _ in range(2)
    }
    assert len(tokens) == 2


def test_only_an_administrator_gets_a_token(runner, client, make_candidate):
    candidate = make_candidate(email="candidate@example.org")
    for email in ("candidate@example.org", "nobody@example.org"):
        result = runner.invoke(args=["create-api-token", email])
        assert result.exit_code != 0
        assert "eii_" not in result.output
    # And nothing the failed commands printed opens the API.
    response = client.get(f"/api/v1/candidates/{candidate.id}")
    assert response.status_code == 401
