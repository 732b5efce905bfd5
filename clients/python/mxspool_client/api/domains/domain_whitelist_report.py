from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.domain_whitelist_report_format import DomainWhitelistReportFormat
from ...models.problem import Problem
from ...models.whitelist_report import WhitelistReport
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: int,
    *,
    format_: DomainWhitelistReportFormat | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/domains/{id}/whitelist".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WhitelistReport | None:
    if response.status_code == 200:
        response_200 = WhitelistReport.from_dict(response.json())

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
) -> Response[Problem | WhitelistReport]:
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
    format_: DomainWhitelistReportFormat | Unset = UNSET,
) -> Response[Problem | WhitelistReport]:
    """What to allow on the domain's primary mail server, and how it treats mxspool today.

     Lists mxspool's egress addresses (MXSPOOL_EGRESS_IPS, else the addresses of the backup MX
    host name) with their PTR names and whether each PTR name resolves back to the address;
    paste-ready allow-list snippets for Postfix, Exim, rspamd, SpamAssassin, Microsoft 365,
    nftables and iptables; and per address the latest delivery attempts and verify probes to
    the domain's current target host with a verdict.

    Verdicts use the evidence of the last 7 days ("recent": started less than 7 × 24 h before
    the report), at most the 10 latest items per address, only items with a reply code, and
    not 5xx replies about the mailbox or message (5.1.x, 5.2.x, 5.3.x, 5.6.x):
    `rejected` when the newest is a 5xx policy rejection (5.7.x, or words like blocked,
    blacklist, policy, spam, denied, access); `greylisted` when the newest is 2xx and a 2xx
    came right after two or more consecutive 4xx; `ok` when the newest is 2xx; `deferred` when
    the newest is 4xx; `unknown` when nothing counts (no attempts yet).

    `?format=text` returns the same report as `text/plain`.

    Args:
        id (int):
        format_ (DomainWhitelistReportFormat | Unset): Representation of a report.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WhitelistReport]
    """

    kwargs = _get_kwargs(
        id=id,
        format_=format_,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: int,
    *,
    client: AuthenticatedClient,
    format_: DomainWhitelistReportFormat | Unset = UNSET,
) -> Problem | WhitelistReport | None:
    """What to allow on the domain's primary mail server, and how it treats mxspool today.

     Lists mxspool's egress addresses (MXSPOOL_EGRESS_IPS, else the addresses of the backup MX
    host name) with their PTR names and whether each PTR name resolves back to the address;
    paste-ready allow-list snippets for Postfix, Exim, rspamd, SpamAssassin, Microsoft 365,
    nftables and iptables; and per address the latest delivery attempts and verify probes to
    the domain's current target host with a verdict.

    Verdicts use the evidence of the last 7 days ("recent": started less than 7 × 24 h before
    the report), at most the 10 latest items per address, only items with a reply code, and
    not 5xx replies about the mailbox or message (5.1.x, 5.2.x, 5.3.x, 5.6.x):
    `rejected` when the newest is a 5xx policy rejection (5.7.x, or words like blocked,
    blacklist, policy, spam, denied, access); `greylisted` when the newest is 2xx and a 2xx
    came right after two or more consecutive 4xx; `ok` when the newest is 2xx; `deferred` when
    the newest is 4xx; `unknown` when nothing counts (no attempts yet).

    `?format=text` returns the same report as `text/plain`.

    Args:
        id (int):
        format_ (DomainWhitelistReportFormat | Unset): Representation of a report.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WhitelistReport
    """

    return sync_detailed(
        id=id,
        client=client,
        format_=format_,
    ).parsed


async def asyncio_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
    format_: DomainWhitelistReportFormat | Unset = UNSET,
) -> Response[Problem | WhitelistReport]:
    """What to allow on the domain's primary mail server, and how it treats mxspool today.

     Lists mxspool's egress addresses (MXSPOOL_EGRESS_IPS, else the addresses of the backup MX
    host name) with their PTR names and whether each PTR name resolves back to the address;
    paste-ready allow-list snippets for Postfix, Exim, rspamd, SpamAssassin, Microsoft 365,
    nftables and iptables; and per address the latest delivery attempts and verify probes to
    the domain's current target host with a verdict.

    Verdicts use the evidence of the last 7 days ("recent": started less than 7 × 24 h before
    the report), at most the 10 latest items per address, only items with a reply code, and
    not 5xx replies about the mailbox or message (5.1.x, 5.2.x, 5.3.x, 5.6.x):
    `rejected` when the newest is a 5xx policy rejection (5.7.x, or words like blocked,
    blacklist, policy, spam, denied, access); `greylisted` when the newest is 2xx and a 2xx
    came right after two or more consecutive 4xx; `ok` when the newest is 2xx; `deferred` when
    the newest is 4xx; `unknown` when nothing counts (no attempts yet).

    `?format=text` returns the same report as `text/plain`.

    Args:
        id (int):
        format_ (DomainWhitelistReportFormat | Unset): Representation of a report.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WhitelistReport]
    """

    kwargs = _get_kwargs(
        id=id,
        format_=format_,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: int,
    *,
    client: AuthenticatedClient,
    format_: DomainWhitelistReportFormat | Unset = UNSET,
) -> Problem | WhitelistReport | None:
    """What to allow on the domain's primary mail server, and how it treats mxspool today.

     Lists mxspool's egress addresses (MXSPOOL_EGRESS_IPS, else the addresses of the backup MX
    host name) with their PTR names and whether each PTR name resolves back to the address;
    paste-ready allow-list snippets for Postfix, Exim, rspamd, SpamAssassin, Microsoft 365,
    nftables and iptables; and per address the latest delivery attempts and verify probes to
    the domain's current target host with a verdict.

    Verdicts use the evidence of the last 7 days ("recent": started less than 7 × 24 h before
    the report), at most the 10 latest items per address, only items with a reply code, and
    not 5xx replies about the mailbox or message (5.1.x, 5.2.x, 5.3.x, 5.6.x):
    `rejected` when the newest is a 5xx policy rejection (5.7.x, or words like blocked,
    blacklist, policy, spam, denied, access); `greylisted` when the newest is 2xx and a 2xx
    came right after two or more consecutive 4xx; `ok` when the newest is 2xx; `deferred` when
    the newest is 4xx; `unknown` when nothing counts (no attempts yet).

    `?format=text` returns the same report as `text/plain`.

    Args:
        id (int):
        format_ (DomainWhitelistReportFormat | Unset): Representation of a report.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WhitelistReport
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            format_=format_,
        )
    ).parsed
