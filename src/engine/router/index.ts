/** Routing across replicas of one model: prefix affinity, least outstanding, health checks, failover. */
export { ReplicaPool, POOL_DEFAULTS, type Replica, type PoolOptions, type ReplicaStats } from "./pool.js";
export { prefixHashes, PrefixMemory, AFFINITY_BLOCK, AFFINITY_MAX_BLOCKS } from "./affinity.js";
