"""Curation over HTTP as a client does it: a curator sending operations with a bearer token,
and one sample operation per Mutation field (each applies to the seeded catalog as it is)."""

from __future__ import annotations

from typing import Any

import httpx

CREATE = """mutation C($input: CreateWorkInput!) { createWork(input: $input) {
  work { slug title year kind version directors { slug } themes { slug }
         attributions { field sources { key } } }
  userErrors { field code message } } }"""
UPDATE = """mutation U($input: UpdateWorkInput!) { updateWork(input: $input) {
  work { slug title year version } userErrors { field code message } } }"""
DELETE = """mutation D($input: DeleteWorkInput!) { deleteWork(input: $input) {
  deletedSlug userErrors { field code message } } }"""


class Curator:
    """Sends operations with a bearer token (or none)."""

    def __init__(self, client: httpx.AsyncClient, token: str | None) -> None:
        self.client, self.token = client, token

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()


CREATE_PERSON = """mutation($input: CreatePersonInput!) { createPerson(input: $input) {
  person { slug name originalName version } userErrors { field code message } } }"""
UPDATE_PERSON = """mutation($input: UpdatePersonInput!) { updatePerson(input: $input) {
  person { slug name version } userErrors { field code message } } }"""
DELETE_PERSON = """mutation($input: DeleteInputBySlug!) { deletePerson(input: $input) {
  deletedSlug userErrors { field code message } } }"""
CREATE_THEME = """mutation($input: CreateThemeInput!) { createTheme(input: $input) {
  theme { slug name version } userErrors { field code message } } }"""
UPDATE_THEME = """mutation($input: UpdateThemeInput!) { updateTheme(input: $input) {
  theme { slug name description version } userErrors { field code message } } }"""
DELETE_THEME = """mutation($input: DeleteInputBySlug!) { deleteTheme(input: $input) {
  deletedSlug userErrors { field code message } } }"""

SAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "createWork": (CREATE, {"input": {"title": "Probe", "kind": "FILM"}}),
    "updateWork": (UPDATE, {"input": {"slug": "pulgasari", "version": 1, "year": 1999}}),
    "deleteWork": (DELETE, {"input": {"slug": "sea-of-blood", "version": 1}}),
    "createPerson": (CREATE_PERSON, {"input": {"name": "Probe Person"}}),
    "updatePerson": (UPDATE_PERSON, {"input": {"slug": "choe-ik-kyu", "version": 1, "name": "X"}}),
    "deletePerson": (DELETE_PERSON, {"input": {"slug": "choe-ik-kyu", "version": 1}}),
    "createTheme": (CREATE_THEME, {"input": {"name": "Probe Theme"}}),
    "updateTheme": (UPDATE_THEME, {"input": {"slug": "family", "version": 1, "name": "X"}}),
    "deleteTheme": (DELETE_THEME, {"input": {"slug": "family", "version": 1}}),
}
LINK = "work { slug version } userErrors { field code message }"
ADD_CREDIT = f"mutation($input: CreditInput!) {{ addCredit(input: $input) {{ {LINK} }} }}"
REMOVE_CREDIT = f"mutation($input: CreditInput!) {{ removeCredit(input: $input) {{ {LINK} }} }}"
REORDER = f"mutation($input: ReorderCreditsInput!) {{ reorderCredits(input: $input) {{ {LINK} }} }}"
TAG = f"mutation($input: TagInput!) {{ tagWork(input: $input) {{ {LINK} }} }}"
UNTAG = f"mutation($input: TagInput!) {{ untagWork(input: $input) {{ {LINK} }} }}"
RELATE = f"mutation($input: RelationInput!) {{ relateWorks(input: $input) {{ {LINK} }} }}"
UNRELATE = f"mutation($input: RelationInput!) {{ unrelateWorks(input: $input) {{ {LINK} }} }}"
SOURCE = """mutation($input: CreateSourceInput!) { createSource(input: $input) {
  key userErrors { field code message } } }"""
DISPUTE = f"mutation($input: AddDisputeInput!) {{ addDispute(input: $input) {{ {LINK} }} }}"
UNDISPUTE = f"mutation($input: RemoveDisputeInput!) {{ removeDispute(input: $input) {{ {LINK} }} }}"
ON_PULGASARI = {"slug": "pulgasari", "version": 1}
SAMPLES.update(
    {
        "addCredit": (
            ADD_CREDIT,
            {"input": {**ON_PULGASARI, "person": "kim-ki-nam", "role": "WRITER"}},
        ),
        "removeCredit": (
            REMOVE_CREDIT,
            {"input": {**ON_PULGASARI, "person": "chong-gon-jo", "role": "DIRECTOR"}},
        ),
        "reorderCredits": (REORDER, {"input": {**ON_PULGASARI, "order": []}}),
        "tagWork": (TAG, {"input": {**ON_PULGASARI, "theme": "family"}}),
        "untagWork": (UNTAG, {"input": {**ON_PULGASARI, "theme": "fantasy"}}),
        "relateWorks": (
            RELATE,
            {"input": {**ON_PULGASARI, "type": "REMAKES", "work": "sea-of-blood"}},
        ),
        "unrelateWorks": (
            UNRELATE,
            {"input": {**ON_PULGASARI, "type": "REMAKES", "work": "sea-of-blood"}},
        ),
        "createSource": (SOURCE, {"input": {"key": "probe", "title": "Probe"}}),
        "addDispute": (
            DISPUTE,
            {
                "input": {
                    **ON_PULGASARI,
                    "field": "year",
                    "stated": "1985",
                    "reported": "1986",
                    "source": "seed-document",
                }
            },
        ),
        "removeDispute": (UNDISPUTE, {"input": {**ON_PULGASARI, "position": 0}}),
    }
)
