/**
 * The state database's schema, as an append-only list: a released migration is never edited,
 * a change is a new migration with the next version. Each runs in its own transaction.
 */
import type { Database } from 'better-sqlite3'

export interface Migration {
  /** 1, 2, 3, … contiguous. */
  readonly version: number
  readonly name: string
  up(db: Database): void
}

const vaultKeys: Migration = {
  version: 1,
  name: 'vault keys and vault settings',
  up(db) {
    db.exec(`
      -- One row per key. Exactly one of secret (raw 32 bytes, vault without passphrase) and
      -- sealed_secret (AES-256-GCM under the passphrase-derived key, see runtime/trust/vault/sealing.ts).
      CREATE TABLE vault_keys (
        handle TEXT PRIMARY KEY,
        type TEXT NOT NULL CHECK (type IN ('ed25519', 'x25519')),
        public_key BLOB NOT NULL CHECK (length(public_key) = 32),
        secret BLOB CHECK (secret IS NULL OR length(secret) = 32),
        sealed_secret BLOB,
        created_at INTEGER NOT NULL,
        CHECK ((secret IS NULL) <> (sealed_secret IS NULL))
      ) STRICT;

      -- One row, written with the first key (or at the first open with a passphrase): whether
      -- the vault is passphrase-protected, and if so the KDF parameters, salt and verifier.
      CREATE TABLE vault_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        protection TEXT NOT NULL CHECK (protection IN ('none', 'passphrase')),
        kdf TEXT CHECK (kdf IS NULL OR kdf = 'scrypt'),
        kdf_log2_n INTEGER,
        kdf_r INTEGER,
        kdf_p INTEGER,
        salt BLOB,
        verifier BLOB,
        created_at INTEGER NOT NULL,
        CHECK (protection = 'none' OR (kdf IS NOT NULL AND kdf_log2_n IS NOT NULL AND kdf_r IS NOT NULL
          AND kdf_p IS NOT NULL AND salt IS NOT NULL AND verifier IS NOT NULL))
      ) STRICT;
    `)
  },
}

const identitiesAndPolicies: Migration = {
  version: 2,
  name: 'named identities, purpose keys, held credentials and policies',
  up(db) {
    db.exec(`
      -- The identities of this state folder, by name. history holds the exact change-history
      -- bytes (runtime/trust/identity/change.ts), verified again whenever they are loaded;
      -- key_handle is the vault key of the current primary key. At most one row is the default.
      -- Times ending in _at are Unix milliseconds.
      CREATE TABLE identities (
        name TEXT PRIMARY KEY,
        identifier TEXT NOT NULL UNIQUE CHECK (length(identifier) = 65 AND substr(identifier, 1, 1) = 'I'),
        history BLOB NOT NULL CHECK (length(history) > 0),
        key_handle TEXT NOT NULL UNIQUE REFERENCES vault_keys (handle) ON DELETE RESTRICT,
        is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX identities_single_default ON identities (is_default) WHERE is_default = 1;

      -- One current purpose key per identity and purpose: the vault key and the attestation the
      -- identity signed for it (runtime/trust/identity/purpose-key.ts). valid_from/valid_until
      -- are the attested window, Unix seconds. A rotation of the identity deletes these rows
      -- (their attestations bind the old latest change).
      CREATE TABLE identity_purpose_keys (
        identifier TEXT NOT NULL REFERENCES identities (identifier) ON DELETE CASCADE,
        purpose TEXT NOT NULL CHECK (purpose IN ('secure-channel', 'credential-signing')),
        key_handle TEXT NOT NULL UNIQUE REFERENCES vault_keys (handle) ON DELETE RESTRICT,
        attestation BLOB NOT NULL,
        valid_from INTEGER NOT NULL,
        valid_until INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (identifier, purpose)
      ) STRICT;

      -- Credentials held by this folder's identities: the latest presentation per subject and
      -- issuer (runtime/trust/credentials/credential.ts), as received. valid_from/valid_until
      -- are the credential's window, Unix seconds.
      CREATE TABLE held_credentials (
        subject TEXT NOT NULL REFERENCES identities (identifier) ON DELETE CASCADE,
        issuer TEXT NOT NULL CHECK (length(issuer) = 65 AND substr(issuer, 1, 1) = 'I'),
        presentation BLOB NOT NULL CHECK (length(presentation) > 0),
        valid_from INTEGER NOT NULL,
        valid_until INTEGER NOT NULL,
        stored_at INTEGER NOT NULL,
        PRIMARY KEY (subject, issuer)
      ) STRICT;

      -- Access policies (runtime/trust/policy/), one per resource and one per resource type; the
      -- resource's own policy wins over its type's. expression is the canonical text of
      -- formatPolicy, so it always parses again.
      CREATE TABLE policies (
        target_kind TEXT NOT NULL CHECK (target_kind IN ('resource', 'resource-type')),
        target TEXT NOT NULL CHECK (length(target) > 0),
        expression TEXT NOT NULL CHECK (length(expression) > 0),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (target_kind, target)
      ) STRICT;
    `)
  },
}

const nodesAndResources: Migration = {
  version: 3,
  name: 'nodes and their persistent resources',
  up(db) {
    db.exec(`
      -- The nodes of this state folder. settings is a JSON object (identity, forwardTo,
      -- managedBy = the config file that declares the node). At most one row is the default
      -- node, the one commands use when no --at/NAME is given. Times are Unix milliseconds.
      CREATE TABLE nodes (
        name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),
        is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
        settings TEXT NOT NULL CHECK (json_valid(settings)),
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX nodes_single_default ON nodes (is_default) WHERE is_default = 1;

      -- What each node should run (runtime/resources/): one row per resource, restored in
      -- rowid order when the node starts. kind names a registered resource kind; spec is its
      -- JSON specification, validated by the kind on every load (as resolved at creation:
      -- a listener asked for port 0 records the port it got).
      CREATE TABLE node_resources (
        node TEXT NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
        name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
        spec TEXT NOT NULL CHECK (json_valid(spec)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (node, kind, name)
      ) STRICT;
    `)
  },
}

const authority: Migration = {
  version: 4,
  name: 'project authority: members, tickets, relay owners, revocations, audit; received revocations',
  up(db) {
    db.exec(`
      -- The project this state folder hosts (runtime/authority/): at most one row (one project
      -- per state folder in this release). authority is the identifier of the authority identity,
      -- one of this folder's identities and distinct from the admin's; advertised_address is the
      -- HOST:PORT tickets carry; settings is a JSON object (credentialTtlSeconds). These tables
      -- rely on the store's synchronous=FULL: a redeemed ticket or a revocation is on disk before
      -- anyone is told.
      CREATE TABLE authority_project (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 63 AND name NOT GLOB '*[^a-z0-9-]*'),
        authority TEXT NOT NULL UNIQUE REFERENCES identities (identifier) ON DELETE RESTRICT,
        advertised_address TEXT NOT NULL CHECK (length(advertised_address) BETWEEN 3 AND 300),
        settings TEXT NOT NULL CHECK (json_valid(settings) AND json_type(settings) = 'object'),
        created_at INTEGER NOT NULL
      ) STRICT;

      -- Members of the project. attributes is a JSON object of text values, reserved ones
      -- (ockam-admin, ockam-enroller) included; history is the longest verified change history
      -- the member presented (NULL until it presents one: a member added by identifier), which
      -- credentials bind. added_by is the identifier of the admin, enroller or ticket redeemer.
      CREATE TABLE authority_members (
        identifier TEXT PRIMARY KEY CHECK (length(identifier) = 65 AND substr(identifier, 1, 1) = 'I'),
        attributes TEXT NOT NULL CHECK (json_valid(attributes) AND json_type(attributes) = 'object'),
        history BLOB CHECK (history IS NULL OR length(history) > 0),
        added_by TEXT NOT NULL CHECK (length(added_by) = 65 AND substr(added_by, 1, 1) = 'I'),
        enrolled_with TEXT,
        added_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      -- Enrollment tickets. Only the SHA-256 of the one-time code is kept; redemption is one
      -- UPDATE of uses_left guarded by revoked, uses_left and expires_at. id is public (list,
      -- revoke); relay is the name granted as the relay attribute. Times are Unix ms.
      CREATE TABLE authority_tickets (
        id TEXT PRIMARY KEY CHECK (length(id) = 16 AND id NOT GLOB '*[^0-9a-f]*'),
        code_hash BLOB NOT NULL UNIQUE CHECK (length(code_hash) = 32),
        attributes TEXT NOT NULL CHECK (json_valid(attributes) AND json_type(attributes) = 'object'),
        relay TEXT CHECK (relay IS NULL OR (length(relay) BETWEEN 1 AND 63 AND relay NOT GLOB '*[^a-z0-9-*]*')),
        usage_count INTEGER NOT NULL CHECK (usage_count >= 1),
        uses_left INTEGER NOT NULL CHECK (uses_left BETWEEN 0 AND usage_count),
        expires_at INTEGER NOT NULL,
        enroller INTEGER NOT NULL CHECK (enroller IN (0, 1)),
        revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
        created_by TEXT NOT NULL CHECK (length(created_by) = 65 AND substr(created_by, 1, 1) = 'I'),
        created_at INTEGER NOT NULL
      ) STRICT;

      -- Relay name -> owner identity. A name is owned until released (by its owner, an admin,
      -- or the owner's deletion from the project), so nobody else can take it over meanwhile.
      CREATE TABLE authority_relay_owners (
        name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63 AND name NOT GLOB '*[^a-z0-9-]*'),
        owner TEXT NOT NULL CHECK (length(owner) = 65 AND substr(owner, 1, 1) = 'I'),
        claimed_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX authority_relay_owners_owner ON authority_relay_owners (owner);

      -- Revocations published by this authority: seq counts from 1 without gaps; entry is the
      -- exact signed bytes (runtime/authority/revocation-entry.ts) that subscribers receive, its
      -- signature included. revoked_at is Unix seconds, as signed. A revoked identifier stays
      -- revoked: it cannot become a member again.
      CREATE TABLE authority_revocations (
        seq INTEGER PRIMARY KEY CHECK (seq >= 1),
        identifier TEXT NOT NULL UNIQUE CHECK (length(identifier) = 65 AND substr(identifier, 1, 1) = 'I'),
        revoked_at INTEGER NOT NULL,
        entry BLOB NOT NULL CHECK (length(entry) > 0)
      ) STRICT;

      -- Who did what: every change to members, tickets, relay owners and the project. actor is
      -- an identifier; details a JSON object; at Unix ms. Append-only.
      CREATE TABLE authority_audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        actor TEXT NOT NULL CHECK (length(actor) = 65 AND substr(actor, 1, 1) = 'I'),
        action TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
        details TEXT NOT NULL CHECK (json_valid(details) AND json_type(details) = 'object'),
        at INTEGER NOT NULL
      ) STRICT;

      -- Subscriber side: revocation entries received from an authority, verified before they
      -- are stored, contiguous from seq 1 per authority. Kept across restarts so a revoked
      -- identity stays refused while the project is unreachable.
      CREATE TABLE received_revocations (
        authority TEXT NOT NULL CHECK (length(authority) = 65 AND substr(authority, 1, 1) = 'I'),
        seq INTEGER NOT NULL CHECK (seq >= 1),
        identifier TEXT NOT NULL CHECK (length(identifier) = 65 AND substr(identifier, 1, 1) = 'I'),
        revoked_at INTEGER NOT NULL,
        entry BLOB NOT NULL CHECK (length(entry) > 0),
        received_at INTEGER NOT NULL,
        PRIMARY KEY (authority, seq)
      ) STRICT;
      CREATE INDEX received_revocations_identifier ON received_revocations (identifier, authority);
    `)
  },
}

/** Every migration this binary knows, in order. Other areas append theirs. */
export const MIGRATIONS: readonly Migration[] = [vaultKeys, identitiesAndPolicies, nodesAndResources, authority]
