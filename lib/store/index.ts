export * from './types';
export { openSqliteStore, StoreError, type SqliteStoreOptions } from './sqlite';
export { orderContentHash, orderKey, formatOrderKey } from './hash';
export { encodeMessage, decodeMessage } from './message-codec';
export { SCHEMA_VERSION } from './migrations';
