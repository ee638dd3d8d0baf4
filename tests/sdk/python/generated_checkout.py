"""A whole checkout through kassa's V3 JSON surface with a client generated from its
/openapi.json by openapi-python-client (`kassa_client`): a product, a session, retrieve, list,
line items, expire. Every answer is a typed model, so `mypy --strict` checks this file against
the generated package before it runs (generated_client.py does both).
"""

from collections.abc import Callable
from typing import TypeVar

from kassa_client import AuthenticatedClient
from kassa_client.api.checkout_sessions import (
    loops_v3_create_session,
    loops_v3_expire_session,
    loops_v3_list_line_items,
    loops_v3_list_sessions,
    loops_v3_retrieve_session,
)
from kassa_client.api.products import loops_v3_create_product, loops_v3_retrieve_product
from kassa_client.models import (
    AmountType,
    CheckoutMode,
    CheckoutSession,
    CheckoutSessionList,
    LineItemList,
    LoopsProductBody,
    PaymentStatus,
    Product,
    ProductStatus,
    SessionBody,
    SessionStatus,
    StripeError,
)
from kassa_client.types import Response


class CheckFailed(Exception):
    pass


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)


T = TypeVar("T")


def parsed(response: Response[T | StripeError], kind: type[T]) -> T:
    """The typed answer, or a failure naming the status and the error's message."""
    answer = response.parsed
    if isinstance(answer, kind):
        return answer
    detail = answer.error.message if isinstance(answer, StripeError) else response.content
    raise CheckFailed(f"HTTP {response.status_code}: {detail!r}")


def checks(client: AuthenticatedClient, base: str) -> list[tuple[str, Callable[[], None]]]:
    """The checkout's steps, in order; each one reads what the ones before it made."""
    made: dict[str, str] = {}

    def create_product() -> None:
        body = LoopsProductBody(
            name="Generated client plan",
            amount_type=AmountType.FIXED,
            price_amount="19.99",
            price_currency="EUR",
        )
        product = parsed(loops_v3_create_product.sync_detailed(client=client, body=body), Product)
        expect(product.id.startswith("prod_"), f"id {product.id}")
        expect(product.amount_type == AmountType.FIXED, f"amountType {product.amount_type}")
        expect(product.price_amount == "19.99", f"priceAmount {product.price_amount!r}")
        expect(product.status == ProductStatus.ACTIVE, f"status {product.status}")
        expect(isinstance(product.default_price, str), "default_price is the price's id")
        again = parsed(loops_v3_retrieve_product.sync_detailed(product.id, client=client), Product)
        expect(again.name == "Generated client plan", f"name {again.name!r}")
        made["product"] = product.id

    def create_session() -> None:
        body = SessionBody(
            product_id=made["product"],
            quantity=2,
            success_url="https://shop.example/thanks",
            cancel_url="https://shop.example/cart",
        )
        session = parsed(
            loops_v3_create_session.sync_detailed(client=client, body=body), CheckoutSession
        )
        expect(session.id.startswith("cs_test_"), f"id {session.id}")
        expect(session.status == SessionStatus.OPEN, f"status {session.status}")
        expect(session.mode == CheckoutMode.PAYMENT, f"mode {session.mode}")
        expect(session.payment_status == PaymentStatus.UNPAID, f"{session.payment_status}")
        expect(session.amount_total == 3998, f"amount_total {session.amount_total}")
        expect(session.currency == "eur", f"currency {session.currency}")
        expect(isinstance(session.url, str) and session.url.startswith(base), f"url {session.url}")
        made["session"] = session.id

    def retrieve_session() -> None:
        session = parsed(
            loops_v3_retrieve_session.sync_detailed(made["session"], client=client),
            CheckoutSession,
        )
        expect(session.id == made["session"], session.id)
        expect(session.product_name == "Generated client plan", session.product_name)

    def list_sessions() -> None:
        page = parsed(
            loops_v3_list_sessions.sync_detailed(client=client, limit=10), CheckoutSessionList
        )
        expect([s.id for s in page.data] == [made["session"]], f"{[s.id for s in page.data]}")
        expect(page.has_more is False, "has_more")

    def list_line_items() -> None:
        items = parsed(
            loops_v3_list_line_items.sync_detailed(made["session"], client=client), LineItemList
        )
        expect(len(items.data) == 1, f"{len(items.data)} line items")
        item = items.data[0]
        expect(item.quantity == 2, f"quantity {item.quantity}")
        expect(item.amount_total == 3998, f"amount_total {item.amount_total}")
        expect(item.price.unit_amount == 1999, f"unit_amount {item.price.unit_amount}")
        expect(item.price.product == made["product"], f"product {item.price.product!r}")

    def expire_session() -> None:
        session = parsed(
            loops_v3_expire_session.sync_detailed(made["session"], client=client),
            CheckoutSession,
        )
        expect(session.status == SessionStatus.EXPIRED, f"status {session.status}")
        expect(session.url is None, "an expired session has no url")
        again = loops_v3_expire_session.sync_detailed(made["session"], client=client)
        expect(again.status_code == 409, f"expiring twice: HTTP {again.status_code}")
        expect(isinstance(again.parsed, StripeError), "the 409 is a typed StripeError")

    return [
        ("v3_create_product", create_product),
        ("v3_create_session", create_session),
        ("v3_retrieve_session", retrieve_session),
        ("v3_list_sessions", list_sessions),
        ("v3_list_line_items", list_line_items),
        ("v3_expire_session", expire_session),
    ]
