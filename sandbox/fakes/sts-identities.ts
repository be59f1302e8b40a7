// The STS emulator's keys: the configured principals (long-term callers) and the credentials it issues, looked up
// by access key id for SigV4; issued keys, tokens and role ids are random, shaped as AWS's. Platform-neutral
// (WebCrypto's getRandomValues).
import type { SigningKey } from "./aws-sigv4.ts";

/** Random bytes in an issued session token; real ones are 600-1200 base64 characters. */
const SESSION_TOKEN_RANDOM_BYTES = 480;

/** ARN of a principal that does not name one. */
export const DEFAULT_PRINCIPAL_ARN = "arn:aws:iam::000000000000:user/broker";

export interface StsPrincipal {
  accessKeyId: string;
  secretAccessKey: string;
  /** Set when the principal itself holds temporary credentials: requests must carry it. */
  sessionToken?: string;
  /** Defaults to DEFAULT_PRINCIPAL_ARN. */
  arn?: string;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** `length` characters drawn uniformly from `alphabet` (32 or 64 symbols: both divide 256, so no bias). */
function randomString(alphabet: string, length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

function randomBase64(byteCount: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(byteCount));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Account id (5th field) of an ARN. */
function accountOf(arn: string): string {
  return arn.split(":")[4] ?? "000000000000";
}

/** Who signed a request. */
export interface Caller {
  accessKeyId: string;
  arn: string;
  userId: string;
  account: string;
  /** True when the caller holds role credentials, so an AssumeRole is role chaining. */
  isRoleSession: boolean;
}

interface IssuedCredentials {
  secretAccessKey: string;
  sessionToken: string;
  expiresAtMs: number;
  arn: string;
  assumedRoleId: string;
}

/** One known access key: a configured principal or credentials this emulator issued. */
export interface KeyRecord extends SigningKey {
  caller: Caller;
}

/** A new session's identity: the role assumed and the session's name. */
export interface SessionOf {
  partition: string;
  account: string;
  roleArn: string;
  roleName: string;
  roleSessionName: string;
}

/** Credentials just issued, as the XML answer names them. */
export interface IssuedSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  arn: string;
  assumedRoleId: string;
}

export interface StsKeyStore {
  /** The key of a configured principal or of issued credentials (expired ones included: SigV4 refuses those). */
  lookupKey(accessKeyId: string): KeyRecord | undefined;
  /** Issues credentials for a session, valid until `expiresAtMs`. */
  issue(session: SessionOf, expiresAtMs: number): IssuedSession;
}

export function createKeyStore(configured: StsPrincipal[]): StsKeyStore {
  const issued = new Map<string, IssuedCredentials>();
  /** Role ids are stable per role, as IAM's are. */
  const roleIds = new Map<string, string>();
  const principals = new Map<string, KeyRecord>();
  for (const principal of configured) {
    const arn = principal.arn ?? DEFAULT_PRINCIPAL_ARN;
    const assumed = /:assumed-role\/[^/]+\/(.+)$/.exec(arn);
    const userId = assumed ? `AROA${randomString(BASE32, 17)}:${assumed[1]}` : `AIDA${randomString(BASE32, 17)}`;
    principals.set(principal.accessKeyId, {
      secretAccessKey: principal.secretAccessKey,
      sessionToken: principal.sessionToken,
      expiresAtMs: undefined,
      caller: {
        accessKeyId: principal.accessKeyId,
        arn,
        userId,
        account: accountOf(arn),
        isRoleSession: assumed !== null,
      },
    });
  }

  function lookupKey(accessKeyId: string): KeyRecord | undefined {
    const principal = principals.get(accessKeyId);
    if (principal !== undefined) return principal;
    const creds = issued.get(accessKeyId);
    if (creds === undefined) return undefined;
    return {
      secretAccessKey: creds.secretAccessKey,
      sessionToken: creds.sessionToken,
      expiresAtMs: creds.expiresAtMs,
      caller: {
        accessKeyId,
        arn: creds.arn,
        userId: creds.assumedRoleId,
        account: accountOf(creds.arn),
        isRoleSession: true,
      },
    };
  }

  function roleIdFor(roleArn: string): string {
    let id = roleIds.get(roleArn);
    if (id === undefined) {
      id = `AROA${randomString(BASE32, 17)}`;
      roleIds.set(roleArn, id);
    }
    return id;
  }

  return {
    lookupKey,
    issue(session, expiresAtMs) {
      const accessKeyId = `ASIA${randomString(BASE32, 16)}`;
      const secretAccessKey = randomString(BASE64, 40);
      const sessionToken = `IQoJb3JpZ2luX2Vj${randomBase64(SESSION_TOKEN_RANDOM_BYTES)}`;
      const assumedRoleId = `${roleIdFor(session.roleArn)}:${session.roleSessionName}`;
      const arn = `arn:${session.partition}:sts::${session.account}:assumed-role/${session.roleName}/${session.roleSessionName}`;
      issued.set(accessKeyId, { secretAccessKey, sessionToken, expiresAtMs, arn, assumedRoleId });
      return { accessKeyId, secretAccessKey, sessionToken, arn, assumedRoleId };
    },
  };
}
