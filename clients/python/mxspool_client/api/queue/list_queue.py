import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.delivery_state import DeliveryState
from ...models.problem import Problem
from ...models.queue_page import QueuePage
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    domain_id: int | Unset = UNSET,
    state: DeliveryState | Unset = UNSET,
    sender: str | Unset = UNSET,
    recipient: str | Unset = UNSET,
    received_before: datetime.datetime | Unset = UNSET,
    received_after: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["domain_id"] = domain_id

    json_state: str | Unset = UNSET
    if not isinstance(state, Unset):
        json_state = state.value

    params["state"] = json_state

    params["sender"] = sender

    params["recipient"] = recipient

    json_received_before: str | Unset = UNSET
    if not isinstance(received_before, Unset):
        json_received_before = received_before.isoformat()
    params["received_before"] = json_received_before

    json_received_after: str | Unset = UNSET
    if not isinstance(received_after, Unset):
        json_received_after = received_after.isoformat()
    params["received_after"] = json_received_after

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/queue",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | QueuePage | None:
    if response.status_code == 200:
        response_200 = QueuePage.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | QueuePage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    domain_id: int | Unset = UNSET,
    state: DeliveryState | Unset = UNSET,
    sender: str | Unset = UNSET,
    recipient: str | Unset = UNSET,
    received_before: datetime.datetime | Unset = UNSET,
    received_after: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[Problem | QueuePage]:
    """List queued recipients.

     One item per recipient (delivery) with its message's envelope, oldest first. The order
    follows the index the filters select, and a cursor continues only a listing with the same
    kind of filters: by recipient id normally; with `sender`, by message id then recipient
    id; with `received_after` or `received_before` (and no `sender` or `recipient`), by
    receipt time. Listings never count the queue: a page costs about the same at ten million
    recipients. With `sender` or a time filter, a page looks at no more than 5,000 messages;
    when those hold fewer matches than `limit` the page is short (even empty) and still has a
    `next_cursor`. The listing ends only when `next_cursor` is `null`.

    Args:
        domain_id (int | Unset):
        state (DeliveryState | Unset): Lifecycle of one recipient of one queued message.
        sender (str | Unset):
        recipient (str | Unset):
        received_before (datetime.datetime | Unset):
        received_after (datetime.datetime | Unset):
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | QueuePage]
    """

    kwargs = _get_kwargs(
        domain_id=domain_id,
        state=state,
        sender=sender,
        recipient=recipient,
        received_before=received_before,
        received_after=received_after,
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
    domain_id: int | Unset = UNSET,
    state: DeliveryState | Unset = UNSET,
    sender: str | Unset = UNSET,
    recipient: str | Unset = UNSET,
    received_before: datetime.datetime | Unset = UNSET,
    received_after: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Problem | QueuePage | None:
    """List queued recipients.

     One item per recipient (delivery) with its message's envelope, oldest first. The order
    follows the index the filters select, and a cursor continues only a listing with the same
    kind of filters: by recipient id normally; with `sender`, by message id then recipient
    id; with `received_after` or `received_before` (and no `sender` or `recipient`), by
    receipt time. Listings never count the queue: a page costs about the same at ten million
    recipients. With `sender` or a time filter, a page looks at no more than 5,000 messages;
    when those hold fewer matches than `limit` the page is short (even empty) and still has a
    `next_cursor`. The listing ends only when `next_cursor` is `null`.

    Args:
        domain_id (int | Unset):
        state (DeliveryState | Unset): Lifecycle of one recipient of one queued message.
        sender (str | Unset):
        recipient (str | Unset):
        received_before (datetime.datetime | Unset):
        received_after (datetime.datetime | Unset):
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | QueuePage
    """

    return sync_detailed(
        client=client,
        domain_id=domain_id,
        state=state,
        sender=sender,
        recipient=recipient,
        received_before=received_before,
        received_after=received_after,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    domain_id: int | Unset = UNSET,
    state: DeliveryState | Unset = UNSET,
    sender: str | Unset = UNSET,
    recipient: str | Unset = UNSET,
    received_before: datetime.datetime | Unset = UNSET,
    received_after: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[Problem | QueuePage]:
    """List queued recipients.

     One item per recipient (delivery) with its message's envelope, oldest first. The order
    follows the index the filters select, and a cursor continues only a listing with the same
    kind of filters: by recipient id normally; with `sender`, by message id then recipient
    id; with `received_after` or `received_before` (and no `sender` or `recipient`), by
    receipt time. Listings never count the queue: a page costs about the same at ten million
    recipients. With `sender` or a time filter, a page looks at no more than 5,000 messages;
    when those hold fewer matches than `limit` the page is short (even empty) and still has a
    `next_cursor`. The listing ends only when `next_cursor` is `null`.

    Args:
        domain_id (int | Unset):
        state (DeliveryState | Unset): Lifecycle of one recipient of one queued message.
        sender (str | Unset):
        recipient (str | Unset):
        received_before (datetime.datetime | Unset):
        received_after (datetime.datetime | Unset):
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | QueuePage]
    """

    kwargs = _get_kwargs(
        domain_id=domain_id,
        state=state,
        sender=sender,
        recipient=recipient,
        received_before=received_before,
        received_after=received_after,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    domain_id: int | Unset = UNSET,
    state: DeliveryState | Unset = UNSET,
    sender: str | Unset = UNSET,
    recipient: str | Unset = UNSET,
    received_before: datetime.datetime | Unset = UNSET,
    received_after: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Problem | QueuePage | None:
    """List queued recipients.

     One item per recipient (delivery) with its message's envelope, oldest first. The order
    follows the index the filters select, and a cursor continues only a listing with the same
    kind of filters: by recipient id normally; with `sender`, by message id then recipient
    id; with `received_after` or `received_before` (and no `sender` or `recipient`), by
    receipt time. Listings never count the queue: a page costs about the same at ten million
    recipients. With `sender` or a time filter, a page looks at no more than 5,000 messages;
    when those hold fewer matches than `limit` the page is short (even empty) and still has a
    `next_cursor`. The listing ends only when `next_cursor` is `null`.

    Args:
        domain_id (int | Unset):
        state (DeliveryState | Unset): Lifecycle of one recipient of one queued message.
        sender (str | Unset):
        recipient (str | Unset):
        received_before (datetime.datetime | Unset):
        received_after (datetime.datetime | Unset):
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | QueuePage
    """

    return (
        await asyncio_detailed(
            client=client,
            domain_id=domain_id,
            state=state,
            sender=sender,
            recipient=recipient,
            received_before=received_before,
            received_after=received_after,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
