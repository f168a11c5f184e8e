// The subset of Fluent Commerce's GraphQL schema the pack uses, with Fluent's own type, field and
// argument names (docs: api.production.shared-sydney-01.fluentcommerce.com/graphql/docs, and an
// older published schema.graphql; see docs/domain notes). The sandbox serves it with graphql-js.
// Lists follow Relay: `edges { cursor node }` and `pageInfo { hasNextPage }`.
export const FLUENT_SDL = /* GraphQL */ `
  """
  Any JSON value (attribute values).
  """
  scalar Json

  """
  An ISO-8601 instant, e.g. 2026-11-01T10:00:00.000Z.
  """
  scalar DateTime

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
  }

  type Attribute {
    name: String!
    type: String!
    value: Json!
  }

  input AttributeInput {
    name: String!
    type: String!
    value: Json!
  }

  type Retailer {
    id: ID!
    ref: String
    tradingName: String
  }

  input RetailerId {
    id: ID!
  }

  input CustomerId {
    id: ID!
  }

  type Customer {
    id: ID!
    ref: String
    username: String
    firstName: String
    lastName: String
    primaryEmail: String
    primaryPhone: String
    timezone: String
    promotionOptIn: Boolean
    country: String
    retailer: Retailer
    attributes: [Attribute]
    createdOn: DateTime
    updatedOn: DateTime
  }

  type CustomerEdge {
    cursor: String
    node: Customer
  }

  type CustomerConnection {
    edges: [CustomerEdge]
    pageInfo: PageInfo
  }

  input CreateCustomerInput {
    username: String!
    firstName: String!
    lastName: String
    primaryEmail: String!
    primaryPhone: String
    timezone: String!
    promotionOptIn: Boolean!
    country: String
    retailer: RetailerId!
    attributes: [AttributeInput]
  }

  type CustomerAddress {
    id: ID!
    ref: String
    name: String
    companyName: String
    street: String
    city: String
    state: String
    postcode: String
    region: String
    country: String
    latitude: Float
    longitude: Float
    timeZone: String
  }

  input CreateCustomerAddressInput {
    ref: String!
    name: String
    companyName: String
    street: String
    city: String
    state: String
    postcode: String
    region: String
    country: String
    latitude: Float
    longitude: Float
    timeZone: String
  }

  type OrderItem {
    id: ID!
    ref: String
    status: String
    productRef: String
    productCatalogueRef: String
    quantity: Int
    price: Float
    paidPrice: Float
    taxPrice: Float
    taxType: String
    totalPrice: Float
    totalTaxPrice: Float
    currency: String
    attributes: [Attribute]
  }

  type OrderItemEdge {
    cursor: String
    node: OrderItem
  }

  type OrderItemConnection {
    edges: [OrderItemEdge]
    pageInfo: PageInfo
  }

  input CreateOrderItemWithOrderInput {
    ref: String!
    productRef: String!
    productCatalogueRef: String
    quantity: Int!
    price: Float
    paidPrice: Float
    taxPrice: Float
    taxType: String
    totalPrice: Float
    totalTaxPrice: Float
    currency: String
    attributes: [AttributeInput]
  }

  type FulfilmentChoice {
    id: ID!
    currency: String
    deliveryType: String
    deliveryInstruction: String
    fulfilmentPrice: Float
    fulfilmentTaxPrice: Float
    fulfilmentType: String
    pickupLocationRef: String
    deliveryAddress: CustomerAddress
  }

  input CreateFulfilmentChoiceWithOrderInput {
    deliveryType: String!
    currency: String
    deliveryInstruction: String
    fulfilmentPrice: Float
    fulfilmentTaxPrice: Float
    fulfilmentType: String
    pickupLocationRef: String
    deliveryAddress: CreateCustomerAddressInput
  }

  type FinancialTransaction {
    id: ID!
    ref: String
    type: String
    status: String
    amount: Float
    currency: String
    paymentMethod: String
    cardType: String
    paymentProvider: String
    externalTransactionCode: String
    externalTransactionId: String
    createdOn: DateTime
  }

  type FinancialTransactionEdge {
    cursor: String
    node: FinancialTransaction
  }

  type FinancialTransactionConnection {
    edges: [FinancialTransactionEdge]
    pageInfo: PageInfo
  }

  input CreateFinancialTransactionWithOrderInput {
    ref: String!
    type: String!
    amount: Float!
    currency: String!
    paymentMethod: String!
    cardType: String
    externalTransactionCode: String
    externalTransactionId: String
    paymentProvider: String
  }

  type Order {
    id: ID!
    ref: String
    type: String
    status: String
    workflowRef: String
    workflowVersion: Int
    createdOn: DateTime
    updatedOn: DateTime
    totalPrice: Float
    totalTaxPrice: Float
    retailer: Retailer
    customer: Customer
    items(first: Int, after: String): OrderItemConnection
    fulfilmentChoice: FulfilmentChoice
    financialTransactions(first: Int, after: String): FinancialTransactionConnection
    attributes: [Attribute]
  }

  type OrderEdge {
    cursor: String
    node: Order
  }

  type OrderConnection {
    edges: [OrderEdge]
    pageInfo: PageInfo
  }

  input CreateOrderInput {
    ref: String!
    type: String!
    retailer: RetailerId!
    customer: CustomerId!
    items: [CreateOrderItemWithOrderInput]!
    totalPrice: Float
    totalTaxPrice: Float
    fulfilmentChoice: CreateFulfilmentChoiceWithOrderInput
    financialTransactions: [CreateFinancialTransactionWithOrderInput]
    attributes: [AttributeInput]
  }

  type Address {
    id: ID
    ref: String
    name: String
    companyName: String
    street: String
    city: String
    state: String
    postcode: String
    region: String
    country: String
    latitude: Float
    longitude: Float
    timeZone: String
  }

  type Network {
    id: ID!
    ref: String
    type: String
    status: String
  }

  type NetworkEdge {
    cursor: String
    node: Network
  }

  type NetworkConnection {
    edges: [NetworkEdge]
    pageInfo: PageInfo
  }

  type Location {
    id: ID!
    ref: String
    name: String
    type: String
    status: String
    supportPhoneNumber: String
    retailer: Retailer
    primaryAddress: Address
    networks(first: Int, after: String): NetworkConnection
    attributes: [Attribute]
  }

  type LocationEdge {
    cursor: String
    node: Location
  }

  type LocationConnection {
    edges: [LocationEdge]
    pageInfo: PageInfo
  }

  type InventoryCatalogue {
    ref: String
  }

  type InventoryPosition {
    id: ID!
    ref: String
    productRef: String
    locationRef: String
    onHand: Int
    status: String
    catalogue: InventoryCatalogue
    createdOn: DateTime
    updatedOn: DateTime
  }

  type InventoryPositionEdge {
    cursor: String
    node: InventoryPosition
  }

  type InventoryPositionConnection {
    edges: [InventoryPositionEdge]
    pageInfo: PageInfo
  }

  type Query {
    order(id: ID, ref: String): Order
    orderById(id: ID!): Order
    orders(ref: [String], type: [String!], status: [String], first: Int, after: String): OrderConnection
    customerById(id: ID!): Customer
    customers(
      ref: [String]
      username: [String]
      primaryEmail: [String]
      first: Int
      after: String
    ): CustomerConnection
    location(ref: String!): Location
    locations(ref: [String], type: [String], status: [String], first: Int, after: String): LocationConnection
    inventoryPositions(
      ref: [String]
      productRef: [String]
      locationRef: [String]
      status: [String]
      first: Int
      after: String
    ): InventoryPositionConnection
  }

  type Mutation {
    createCustomer(input: CreateCustomerInput): Customer
    createOrder(input: CreateOrderInput): Order
  }
`;
