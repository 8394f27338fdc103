/**
 * Bit-exact ports of PostgreSQL's hash partitioning: {@link io.shardlift.core.hash.PgHash} hashes one
 * value as the type's extended hash support function does, {@link io.shardlift.core.hash.KeyHasher}
 * combines a row's key columns into the partition remainder as {@code compute_partition_hash_value} does,
 * and {@link io.shardlift.core.hash.KeyType} names the supported key types.
 */
package io.shardlift.core.hash;
