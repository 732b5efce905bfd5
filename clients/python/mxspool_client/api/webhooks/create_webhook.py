from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.create_webhook import CreateWebhook
from ...models.problem import Problem
from ...models.webhook_view import WebhookView
from ...types import Response


def _get_kwargs(
    *,
    body: CreateWebhook,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/webhooks",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | WebhookView | None:
    if response.status_code == 201:
        response_201 = WebhookView.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

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
) -> Response[Problem | WebhookView]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: CreateWebhook,
) -> Response[Problem | WebhookView]:
    """Register a webhook for the caller's account.

     The response holds the signing secret; it is not shown again (rotate it with
    `PATCH … {"rotate_secret": true}`). Each request is signed:
    `X-Mxspool-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

    Args:
        body (CreateWebhook): A new webhook. Example: {'description': 'pager', 'events':
            ['target.down', 'target.up', 'queue.threshold', 'message.bounced'],
            'queue_threshold_age_seconds': 3600, 'queue_threshold_messages': 1000,
            'target_down_grace_seconds': 300, 'url': 'https://hooks.example.com/mxspool'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookView]
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
    body: CreateWebhook,
) -> Problem | WebhookView | None:
    """Register a webhook for the caller's account.

     The response holds the signing secret; it is not shown again (rotate it with
    `PATCH … {"rotate_secret": true}`). Each request is signed:
    `X-Mxspool-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

    Args:
        body (CreateWebhook): A new webhook. Example: {'description': 'pager', 'events':
            ['target.down', 'target.up', 'queue.threshold', 'message.bounced'],
            'queue_threshold_age_seconds': 3600, 'queue_threshold_messages': 1000,
            'target_down_grace_seconds': 300, 'url': 'https://hooks.example.com/mxspool'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookView
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: CreateWebhook,
) -> Response[Problem | WebhookView]:
    """Register a webhook for the caller's account.

     The response holds the signing secret; it is not shown again (rotate it with
    `PATCH … {"rotate_secret": true}`). Each request is signed:
    `X-Mxspool-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

    Args:
        body (CreateWebhook): A new webhook. Example: {'description': 'pager', 'events':
            ['target.down', 'target.up', 'queue.threshold', 'message.bounced'],
            'queue_threshold_age_seconds': 3600, 'queue_threshold_messages': 1000,
            'target_down_grace_seconds': 300, 'url': 'https://hooks.example.com/mxspool'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookView]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: CreateWebhook,
) -> Problem | WebhookView | None:
    """Register a webhook for the caller's account.

     The response holds the signing secret; it is not shown again (rotate it with
    `PATCH … {"rotate_secret": true}`). Each request is signed:
    `X-Mxspool-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

    Args:
        body (CreateWebhook): A new webhook. Example: {'description': 'pager', 'events':
            ['target.down', 'target.up', 'queue.threshold', 'message.bounced'],
            'queue_threshold_age_seconds': 3600, 'queue_threshold_messages': 1000,
            'target_down_grace_seconds': 300, 'url': 'https://hooks.example.com/mxspool'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookView
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
