# ruff: noqa: E501  (Shopify's schema and shop records, one record to a line)
"""The part of Shopify's Admin GraphQL schema (2025-10) the fake serves, and its cost rules.

Types and fields are named as in Shopify's reference (Order, LineItem,
FulfillmentOrder with its `fulfillments` connection, FulfillmentHold with
`heldByApp`/`heldByRequestingApp`, fulfillmentCreate, fulfillmentOrderOpen,
fulfillmentOrderHold/ReleaseHold...); a query
asking for anything else is refused by graphql-core's validation, as Shopify
refuses unknown fields.

Cost, as Shopify's rate-limit page describes it: a scalar or enum costs 0, an
object 1, a connection 2 plus `first` times the cost of one node (requested) or
the nodes actually returned (actual), a mutation 10. A query whose requested cost
exceeds 1,000 is refused (MAX_COST_EXCEEDED); the bucket must hold the requested
cost before a query runs, and is charged the actual cost.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

SDL = """
scalar DateTime
scalar URL

type Query {
  orders(first: Int, after: String, sortKey: OrderSortKeys, reverse: Boolean, query: String): OrderConnection!
  ordersCount(query: String, limit: Int): Count
  order(id: ID!): Order
  fulfillmentOrder(id: ID!): FulfillmentOrder
}
enum OrderSortKeys { CREATED_AT ID PROCESSED_AT UPDATED_AT }
type Count { count: Int!, precision: String! }
type PageInfo { hasNextPage: Boolean!, hasPreviousPage: Boolean!, endCursor: String, startCursor: String }
type OrderConnection { nodes: [Order!]!, pageInfo: PageInfo! }
type MoneyV2 { amount: String!, currencyCode: String! }
type MoneyBag { shopMoney: MoneyV2! }
type MailingAddress {
  firstName: String, lastName: String, name: String, company: String, address1: String,
  address2: String, city: String, province: String, provinceCode: String, zip: String,
  country: String, countryCodeV2: String, phone: String
}
type ShippingLine { title: String!, code: String }
type Attribute { key: String!, value: String }
type Order {
  id: ID!, legacyResourceId: String!, name: String!, createdAt: DateTime!, updatedAt: DateTime!,
  cancelledAt: DateTime, cancelReason: String, displayFinancialStatus: String,
  displayFulfillmentStatus: String!, email: String, phone: String, note: String,
  currencyCode: String!, totalPriceSet: MoneyBag!, totalShippingPriceSet: MoneyBag!,
  shippingAddress: MailingAddress, shippingLine: ShippingLine,
  lineItems(first: Int, after: String): LineItemConnection!,
  fulfillmentOrders(first: Int, after: String): FulfillmentOrderConnection!,
  fulfillments(first: Int): [Fulfillment!]!
}
type LineItemConnection { nodes: [LineItem!]!, pageInfo: PageInfo! }
type LineItem {
  id: ID!, sku: String, name: String!, quantity: Int!, currentQuantity: Int!,
  unfulfilledQuantity: Int!, customAttributes: [Attribute!]!, originalUnitPriceSet: MoneyBag!
}
enum FulfillmentOrderStatus { OPEN IN_PROGRESS ON_HOLD SCHEDULED CLOSED CANCELLED INCOMPLETE }
enum FulfillmentHoldReason {
  AWAITING_PAYMENT AWAITING_RETURN_ITEMS HIGH_RISK_OF_FRAUD INCORRECT_ADDRESS
  INVENTORY_OUT_OF_STOCK ONLINE_STORE_POST_PURCHASE_CROSS_SELL OTHER UNKNOWN_DELIVERY_DATE
}
type FulfillmentOrderConnection { nodes: [FulfillmentOrder!]!, pageInfo: PageInfo! }
type FulfillmentOrder {
  id: ID!, status: FulfillmentOrderStatus!, fulfillAt: DateTime, fulfillmentHolds: [FulfillmentHold!]!,
  lineItems(first: Int, after: String): FulfillmentOrderLineItemConnection!,
  fulfillments(first: Int, after: String): FulfillmentConnection!
}
type FulfillmentConnection { nodes: [Fulfillment!]!, pageInfo: PageInfo! }
type FulfillmentOrderLineItemConnection { nodes: [FulfillmentOrderLineItem!]!, pageInfo: PageInfo! }
type FulfillmentOrderLineItem { id: ID!, remainingQuantity: Int!, totalQuantity: Int!, lineItem: LineItem! }
type FulfillmentHold {
  id: ID!, reason: FulfillmentHoldReason!, reasonNotes: String, handle: String, displayReason: String!,
  heldByApp: App, heldByRequestingApp: Boolean!
}
type App { id: ID!, title: String! }
type Fulfillment { id: ID!, status: String!, trackingInfo(first: Int): [FulfillmentTrackingInfo!]! }
type FulfillmentTrackingInfo { company: String, number: String, url: URL }
type UserError { field: [String!], message: String! }

input FulfillmentOrderLineItemInput { id: ID!, quantity: Int! }
input FulfillmentOrderLineItemsInput {
  fulfillmentOrderId: ID!, fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
}
input FulfillmentTrackingInput { company: String, number: String, numbers: [String!], url: URL, urls: [URL!] }
input FulfillmentInput {
  lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]!,
  notifyCustomer: Boolean, trackingInfo: FulfillmentTrackingInput
}
input FulfillmentOrderHoldInput {
  reason: FulfillmentHoldReason!, reasonNotes: String, handle: String, notifyMerchant: Boolean
}
type FulfillmentCreatePayload { fulfillment: Fulfillment, userErrors: [UserError!]! }
type FulfillmentOrderHoldPayload { fulfillmentOrder: FulfillmentOrder, fulfillmentHold: FulfillmentHold, userErrors: [UserError!]! }
type FulfillmentOrderReleaseHoldPayload { fulfillmentOrder: FulfillmentOrder, userErrors: [UserError!]! }
type FulfillmentOrderOpenPayload { fulfillmentOrder: FulfillmentOrder, userErrors: [UserError!]! }

type Mutation {
  fulfillmentCreate(fulfillment: FulfillmentInput!, message: String): FulfillmentCreatePayload
  fulfillmentOrderHold(id: ID!, fulfillmentHold: FulfillmentOrderHoldInput!): FulfillmentOrderHoldPayload
  fulfillmentOrderReleaseHold(id: ID!, holdIds: [ID!]): FulfillmentOrderReleaseHoldPayload
  fulfillmentOrderOpen(id: ID!): FulfillmentOrderOpenPayload
}
"""

SCHEMA: GraphQLSchema = build_schema(SDL)
SINGLE_QUERY_LIMIT = 1000
MUTATION_COST = 10
REQUESTED: Any = object()
"""Costing what a query asks for, not what an answer holds."""


def _first(field: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value == "first":
            value = value_from_ast_untyped(argument.value, variables)
            return int(value) if isinstance(value, int) else 0
    return None


def _object_of(field_type: Any) -> Any:
    return get_named_type(field_type)


def _is_list(field_type: Any) -> bool:
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    return isinstance(inner, GraphQLList)


def requested_cost(operation: OperationDefinitionNode, variables: dict[str, Any]) -> int:
    if operation.operation.value == "mutation":
        return MUTATION_COST * len(operation.selection_set.selections)
    root = SCHEMA.query_type
    assert root is not None
    return _selection_cost(operation.selection_set.selections, root, variables, REQUESTED)


def actual_cost(
    operation: OperationDefinitionNode, variables: dict[str, Any], data: dict[str, Any] | None
) -> int:
    if operation.operation.value == "mutation":
        return MUTATION_COST * len(operation.selection_set.selections)
    root = SCHEMA.query_type
    assert root is not None
    return _selection_cost(operation.selection_set.selections, root, variables, data or {})


def _selection_cost(
    selections: Any, parent: GraphQLObjectType, variables: dict[str, Any], data: Any
) -> int:
    """Requested cost when `data` is REQUESTED, else the actual cost of the answer `data`."""
    total = 0
    for selection in selections:
        if not isinstance(selection, FieldNode) or selection.name.value.startswith("__"):
            continue
        definition = parent.fields[selection.name.value]
        named = _object_of(definition.type)
        if is_leaf_type(named) or selection.selection_set is None:
            continue
        children = selection.selection_set.selections
        alias = selection.alias.value if selection.alias else selection.name.value
        value = REQUESTED if data is REQUESTED else (data or {}).get(alias)
        first = _first(selection, variables)
        if named.name.endswith("Connection"):
            node_field = next(
                (s for s in children if isinstance(s, FieldNode) and s.name.value == "nodes"), None
            )
            node_type = _object_of(named.fields["nodes"].type)
            per_node: list[Any] = []
            if node_field is not None and node_field.selection_set is not None:
                nodes = (
                    [None] * (first or 0) if data is REQUESTED else (value or {}).get("nodes") or []
                )
                per_node = [
                    1
                    + _selection_cost(
                        node_field.selection_set.selections,
                        node_type,
                        variables,
                        REQUESTED if data is REQUESTED else node,
                    )
                    for node in nodes
                ]
            total += 2 + sum(per_node)
        elif _is_list(definition.type) and first is not None:
            items = [None] * first if data is REQUESTED else value or []
            total += 2 + sum(
                1
                + _selection_cost(
                    children, named, variables, REQUESTED if data is REQUESTED else item
                )
                for item in items
            )
        elif _is_list(definition.type):
            items = [None] if data is REQUESTED else (value or [None])[:1]
            total += 1 + sum(
                _selection_cost(
                    children, named, variables, REQUESTED if data is REQUESTED else item
                )
                for item in items
            )
        else:
            total += 1 + _selection_cost(children, named, variables, value)
    return total
