from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.queue_action_result import QueueActionResult
from ...models.queue_bulk_action import QueueBulkAction
from ...types import Response


def _get_kwargs(
    *,
    body: QueueBulkAction,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/queue/actions",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | QueueActionResult | None:
    if response.status_code == 200:
        response_200 = QueueActionResult.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

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
) -> Response[Problem | QueueActionResult]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: QueueBulkAction,
) -> Response[Problem | QueueActionResult]:
    """Act on every recipient matching a filter.

     Runs `action` on the caller's recipients that match `filter` (the filters of `GET /queue`;
    `{}` means all of the caller's unfinished mail, and for an operator the whole queue). The
    work is done in batches of 10,000 recipients, each its own short statement, so a command
    over a million recipients never holds one long lock; a failure part-way leaves the batches
    before it done. With `dry_run` nothing changes and the answer says what would.

    Args:
        body (QueueBulkAction): A command for every visible recipient matching a filter. Example:
            {'action': 'retry', 'dry_run': True, 'filter': {'domain_id': 12, 'state': 'deferred'}}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | QueueActionResult]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: QueueBulkAction,
) -> Problem | QueueActionResult | None:
    """Act on every recipient matching a filter.

     Runs `action` on the caller's recipients that match `filter` (the filters of `GET /queue`;
    `{}` means all of the caller's unfinished mail, and for an operator the whole queue). The
    work is done in batches of 10,000 recipients, each its own short statement, so a command
    over a million recipients never holds one long lock; a failure part-way leaves the batches
    before it done. With `dry_run` nothing changes and the answer says what would.

    Args:
        body (QueueBulkAction): A command for every visible recipient matching a filter. Example:
            {'action': 'retry', 'dry_run': True, 'filter': {'domain_id': 12, 'state': 'deferred'}}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | QueueActionResult
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: QueueBulkAction,
) -> Response[Problem | QueueActionResult]:
    """Act on every recipient matching a filter.

     Runs `action` on the caller's recipients that match `filter` (the filters of `GET /queue`;
    `{}` means all of the caller's unfinished mail, and for an operator the whole queue). The
    work is done in batches of 10,000 recipients, each its own short statement, so a command
    over a million recipients never holds one long lock; a failure part-way leaves the batches
    before it done. With `dry_run` nothing changes and the answer says what would.

    Args:
        body (QueueBulkAction): A command for every visible recipient matching a filter. Example:
            {'action': 'retry', 'dry_run': True, 'filter': {'domain_id': 12, 'state': 'deferred'}}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | QueueActionResult]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: QueueBulkAction,
) -> Problem | QueueActionResult | None:
    """Act on every recipient matching a filter.

     Runs `action` on the caller's recipients that match `filter` (the filters of `GET /queue`;
    `{}` means all of the caller's unfinished mail, and for an operator the whole queue). The
    work is done in batches of 10,000 recipients, each its own short statement, so a command
    over a million recipients never holds one long lock; a failure part-way leaves the batches
    before it done. With `dry_run` nothing changes and the answer says what would.

    Args:
        body (QueueBulkAction): A command for every visible recipient matching a filter. Example:
            {'action': 'retry', 'dry_run': True, 'filter': {'domain_id': 12, 'state': 'deferred'}}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | QueueActionResult
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
