/** Named identities of a state folder, their purpose keys, and the vault as their Signer. */
export * from './constants.js'
export {
  type AbortOptions,
  checkName,
  createIdentitiesService,
  type IdentitiesService,
  type IdentitiesServiceOptions,
  type IssueCredentialRequest,
  type IssuedCredential,
  type NamedIdentity,
  type PurposeKey,
  type PurposeKeyOptions,
} from './identities.js'
export { type IdentityVault, vaultSigner } from './vault-signer.js'
