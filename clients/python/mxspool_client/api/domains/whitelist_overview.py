from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.whitelist_overview import WhitelistOverview
from ...models.whitelist_overview_format import WhitelistOverviewFormat
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    format_: WhitelistOverviewFormat | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/whitelist",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WhitelistOverview | None:
    if response.status_code == 200:
        response_200 = WhitelistOverview.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | WhitelistOverview]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    format_: WhitelistOverviewFormat | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[Problem | WhitelistOverview]:
    """The whitelist report for all the caller's domains, a page at a time.

     The egress addresses, their PTR names and the snippets once (the snippets cover the target
    ports of the page's domains); then each domain (ordered by id) with per-address evidence
    and verdicts as in `GET /domains/{id}/whitelist`. Pages hold up to 500 domains (default
    50; the evidence of a whole page is read in one statement); pass `next_cursor` as `cursor`
    for the next. `?format=text` returns plain text.

    Args:
        format_ (WhitelistOverviewFormat | Unset): Representation of a report.
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WhitelistOverview]
    """

    kwargs = _get_kwargs(
        format_=format_,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    format_: WhitelistOverviewFormat | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Problem | WhitelistOverview | None:
    """The whitelist report for all the caller's domains, a page at a time.

     The egress addresses, their PTR names and the snippets once (the snippets cover the target
    ports of the page's domains); then each domain (ordered by id) with per-address evidence
    and verdicts as in `GET /domains/{id}/whitelist`. Pages hold up to 500 domains (default
    50; the evidence of a whole page is read in one statement); pass `next_cursor` as `cursor`
    for the next. `?format=text` returns plain text.

    Args:
        format_ (WhitelistOverviewFormat | Unset): Representation of a report.
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WhitelistOverview
    """

    return sync_detailed(
        client=client,
        format_=format_,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    format_: WhitelistOverviewFormat | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[Problem | WhitelistOverview]:
    """The whitelist report for all the caller's domains, a page at a time.

     The egress addresses, their PTR names and the snippets once (the snippets cover the target
    ports of the page's domains); then each domain (ordered by id) with per-address evidence
    and verdicts as in `GET /domains/{id}/whitelist`. Pages hold up to 500 domains (default
    50; the evidence of a whole page is read in one statement); pass `next_cursor` as `cursor`
    for the next. `?format=text` returns plain text.

    Args:
        format_ (WhitelistOverviewFormat | Unset): Representation of a report.
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WhitelistOverview]
    """

    kwargs = _get_kwargs(
        format_=format_,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    format_: WhitelistOverviewFormat | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Problem | WhitelistOverview | None:
    """The whitelist report for all the caller's domains, a page at a time.

     The egress addresses, their PTR names and the snippets once (the snippets cover the target
    ports of the page's domains); then each domain (ordered by id) with per-address evidence
    and verdicts as in `GET /domains/{id}/whitelist`. Pages hold up to 500 domains (default
    50; the evidence of a whole page is read in one statement); pass `next_cursor` as `cursor`
    for the next. `?format=text` returns plain text.

    Args:
        format_ (WhitelistOverviewFormat | Unset): Representation of a report.
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WhitelistOverview
    """

    return (
        await asyncio_detailed(
            client=client,
            format_=format_,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
