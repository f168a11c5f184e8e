// Fraud screening (docs/fraud.md): the analyst's rules, their evaluation and the provider adapters.
export * from './rules';
export * from './evaluate';
export { DISPOSABLE_EMAIL_DOMAINS } from './disposable-domains';
