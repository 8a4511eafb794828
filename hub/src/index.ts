export { createHub, type Hub } from './hub.js';
export { createApp } from './app.js';
export { loadConfig, ConfigError, type HubConfig } from './config.js';
export { openStore, MemoryStore, RedisStore, type Store } from './store/index.js';
export { createLogger, type Logger } from './logger.js';
export { loadSeedFile, applySeed, type Seed } from './seed.js';
export { main } from './main.js';
export { createDomainServices, type DomainServices } from './domain-services.js';
export type { HubServices } from './services.js';
