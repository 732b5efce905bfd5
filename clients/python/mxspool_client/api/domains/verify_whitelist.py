from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.whitelist_verify_report import WhitelistVerifyReport
from ...types import Response


def _get_kwargs(
    id: int,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/domains/{id}/whitelist/verify".format(
            id=quote(str(id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WhitelistVerifyReport | None:
    if response.status_code == 200:
        response_200 = WhitelistVerifyReport.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

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
) -> Response[Problem | WhitelistVerifyReport]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
) -> Response[Problem | WhitelistVerifyReport]:
    """Test now whether the domain's primary accepts mail from each egress address.

     From every egress address (bound as the local address before connecting) mxspool opens an
    SMTP session to the target host and port (its A/AAAA addresses of the same family, or the
    IP literal): greeting, `EHLO <MXSPOOL_HOSTNAME>` (HELO if refused), `MAIL FROM:<>`,
    `RCPT TO:<postmaster@domain>`, then QUIT — never DATA, so no mail is sent. Each probe has
    10 seconds in all; an address this host cannot bind, or a target that does not answer, is
    reported in that address's result (outcome `error`), not as a failed request. The results
    are stored (the latest 20 per address) and count as evidence for the report's verdicts.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WhitelistVerifyReport]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: int,
    *,
    client: AuthenticatedClient,
) -> Problem | WhitelistVerifyReport | None:
    """Test now whether the domain's primary accepts mail from each egress address.

     From every egress address (bound as the local address before connecting) mxspool opens an
    SMTP session to the target host and port (its A/AAAA addresses of the same family, or the
    IP literal): greeting, `EHLO <MXSPOOL_HOSTNAME>` (HELO if refused), `MAIL FROM:<>`,
    `RCPT TO:<postmaster@domain>`, then QUIT — never DATA, so no mail is sent. Each probe has
    10 seconds in all; an address this host cannot bind, or a target that does not answer, is
    reported in that address's result (outcome `error`), not as a failed request. The results
    are stored (the latest 20 per address) and count as evidence for the report's verdicts.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WhitelistVerifyReport
    """

    return sync_detailed(
        id=id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
) -> Response[Problem | WhitelistVerifyReport]:
    """Test now whether the domain's primary accepts mail from each egress address.

     From every egress address (bound as the local address before connecting) mxspool opens an
    SMTP session to the target host and port (its A/AAAA addresses of the same family, or the
    IP literal): greeting, `EHLO <MXSPOOL_HOSTNAME>` (HELO if refused), `MAIL FROM:<>`,
    `RCPT TO:<postmaster@domain>`, then QUIT — never DATA, so no mail is sent. Each probe has
    10 seconds in all; an address this host cannot bind, or a target that does not answer, is
    reported in that address's result (outcome `error`), not as a failed request. The results
    are stored (the latest 20 per address) and count as evidence for the report's verdicts.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WhitelistVerifyReport]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: int,
    *,
    client: AuthenticatedClient,
) -> Problem | WhitelistVerifyReport | None:
    """Test now whether the domain's primary accepts mail from each egress address.

     From every egress address (bound as the local address before connecting) mxspool opens an
    SMTP session to the target host and port (its A/AAAA addresses of the same family, or the
    IP literal): greeting, `EHLO <MXSPOOL_HOSTNAME>` (HELO if refused), `MAIL FROM:<>`,
    `RCPT TO:<postmaster@domain>`, then QUIT — never DATA, so no mail is sent. Each probe has
    10 seconds in all; an address this host cannot bind, or a target that does not answer, is
    reported in that address's result (outcome `error`), not as a failed request. The results
    are stored (the latest 20 per address) and count as evidence for the report's verdicts.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WhitelistVerifyReport
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
        )
    ).parsed
