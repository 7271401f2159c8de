/** The project authority: members, tickets, relay names, revocations, audit (DESIGN §6, §12). */
export * from './attributes.js'
export {
  type AuthorityService,
  type AuthorityServiceOptions,
  type CreateProjectRequest,
  createAuthorityService,
  type RevocationPage,
} from './authority.js'
export * from './constants.js'
export type {
  AddMemberOptions,
  DeletedMember,
  IssueMemberCredentialOptions,
  MemberCredential,
  RevocationListener,
} from './members.js'
export {
  checkAdvertisedAddress,
  checkProjectName,
  checkProjectSettings,
  DEFAULT_PROJECT_SETTINGS,
  type ProjectSettings,
} from './project.js'
export { checkRelayName, mayRegisterRelay, type RelayClaim } from './relays.js'
export {
  decodeRevocationEntry,
  encodeRevocationData,
  type ParsedRevocationEntry,
  REVOCATION_ENTRY_VERSION,
  REVOCATION_SIGNING_DOMAIN,
  type RevocationEntry,
  type RevocationFields,
  revocationSigningInput,
  signRevocationEntry,
  verifyRevocationEntry,
} from './revocation-entry.js'
export {
  createRevocationStore,
  type RevocationStore,
  type RevocationStoreOptions,
  type RevokedListener,
} from './revocation-store.js'
export { decodeTicket, encodeTicket, TICKET_VERSION, type Ticket, verifyTicketAuthority } from './ticket-text.js'
export type { CreatedTicket, CreateTicketOptions, Enrollee, Redemption } from './tickets.js'
export type { AuditEntry, Member, Project, RelayOwner, TicketInfo, TicketStatus } from './types.js'
