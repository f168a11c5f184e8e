// Sourcing: which locations ship an order (docs/routing.md).
export * from './config';
export * from './conditions';
export * from './geo';
export * from './inventory';
export * from './route';
