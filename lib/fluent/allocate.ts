// Creates an order in Fluent exactly once: the customer is found by e-mail or created, the order
// is created, and a duplicate ref (C0121E) means an earlier attempt got there first — the order is
// looked up and treated as created. A retried or re-run order never makes a second Fluent order.
import type { Order } from '../order/model';
import { FluentError, type FluentClient } from './client';
import { createOrderInput, customerInput, type FluentOrderOptions } from './order';

export const DUPLICATE_REF = 'C0121E';

export interface AllocationResult {
  fluentId: string;
  status: string;
  customerId: string;
  /** false: the order already existed (an earlier attempt created it). */
  created: boolean;
}

export const FIND_CUSTOMER = `query findCustomer($email: [String]) {
  customers(primaryEmail: $email, first: 1) { edges { node { id } } }
}`;

export const CREATE_CUSTOMER = `mutation createCustomer($input: CreateCustomerInput) {
  createCustomer(input: $input) { id }
}`;

export const FIND_ORDER = `query findOrder($ref: String) {
  order(ref: $ref) { id status customer { id } }
}`;

export const CREATE_ORDER = `mutation createOrder($input: CreateOrderInput) {
  createOrder(input: $input) { id status }
}`;

interface Connection<T> {
  edges: Array<{ node: T }>;
}

async function findCustomer(client: FluentClient, email: string): Promise<string | undefined> {
  const data = await client.graphql<{ customers: Connection<{ id: string }> | null }>(
    FIND_CUSTOMER,
    { email: [email] },
    'findCustomer',
  );
  return data.customers?.edges[0]?.node.id;
}

/** The customer's Fluent id: found by e-mail, or created (a concurrent create is found again). */
export async function ensureCustomer(
  client: FluentClient,
  order: Order,
  retailerId: string,
): Promise<string> {
  const email = order.customer.email;
  if (!email)
    throw new FluentError(
      `Order ${order.orderRef} has no customer e-mail to find or create the customer by`,
      'OMS_VALIDATION_EMAIL',
    );
  const found = await findCustomer(client, email);
  if (found) return found;
  try {
    const data = await client.graphql<{ createCustomer: { id: string } }>(
      CREATE_CUSTOMER,
      { input: customerInput(order, retailerId) },
      'createCustomer',
    );
    return data.createCustomer.id;
  } catch (err) {
    if (err instanceof FluentError && err.code === DUPLICATE_REF) {
      const again = await findCustomer(client, email);
      if (again) return again;
    }
    throw err;
  }
}

export async function allocateOrder(
  client: FluentClient,
  order: Order,
  options: FluentOrderOptions,
): Promise<AllocationResult> {
  const customerId = await ensureCustomer(client, order, options.retailerId);
  try {
    const data = await client.graphql<{ createOrder: { id: string; status: string } }>(
      CREATE_ORDER,
      { input: createOrderInput(order, customerId, options) },
      'createOrder',
    );
    return { fluentId: data.createOrder.id, status: data.createOrder.status, customerId, created: true };
  } catch (err) {
    if (!(err instanceof FluentError) || err.code !== DUPLICATE_REF) throw err;
    const data = await client.graphql<{
      order: { id: string; status: string; customer?: { id: string } } | null;
    }>(FIND_ORDER, { ref: order.orderRef }, 'findOrder');
    if (!data.order) throw err; // C0121E yet no order of that ref: let the caller see Fluent's answer
    return {
      fluentId: data.order.id,
      status: data.order.status,
      customerId: data.order.customer?.id ?? customerId,
      created: false,
    };
  }
}
