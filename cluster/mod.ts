/**
 * The cluster: one libp2p node per process, remote actor refs over it, the consistent-hash
 * ring of microshard owners, and the ClusterCoordinator that changes the cluster view only
 * on messages. Nothing is exported yet: this folder is filled by the cluster issue, and
 * ARCHITECTURE.md describes what it will hold.
 *
 * @module
 */

export {};
