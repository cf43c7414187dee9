/// <reference lib="dom" />

/** How the refresh token travels: an HttpOnly cookie (browsers on the API's site) or the JSON body. */
export type Transport = "cookie" | "body";

/** The signed-in user, from the login answer or the access token's claims. */
export interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  type: string;
}

/** The body of `POST /auth/login`; extra fields are sent as given. */
export interface Credentials {
  email: string;
  password: string;
  userType: string;
  [field: string]: unknown;
}

/**
 * Why the session ended: `logout` and `logout-all` (asked for, in this tab or another),
 * `session-ended` (the API refused the session: revoked, expired, password changed elsewhere).
 */
export type SignedOutReason = "logout" | "logout-all" | "session-ended";

export interface SignedOutEvent {
  reason: SignedOutReason;
  /** True when another tab of this origin ended the session. */
  remote: boolean;
}

/** Where body mode keeps the refresh token (e.g. sessionStorage). Default: memory only. */
export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A route asked for a step-up (RFC 9470): a login with a second factor at most `maxAge` seconds old. */
export interface StepUpEvent {
  path: string;
  maxAge: number;
}

/** The step-up challenge of a response (API Gateway's 403 with RFC 9470's error), or null. */
export declare function stepUpChallenge(response: Response): Promise<{ maxAge: number } | null>;

export interface AuthClientOptions {
  /** The API's base URL, stage path included (e.g. `https://auth.example.com`). */
  baseUrl: string;
  /** Default `"cookie"`: the API must then be on the page's site. */
  transport?: Transport;
  /** The fetch to call (default: the global one). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Body mode only: where to keep the refresh token across reloads. Default: memory only. */
  storage?: TokenStorage | null;
  /** Names the lock, channel and counter shared by tabs. Default: derived from `baseUrl`. */
  name?: string;
  /** Renew the access token a minute before it expires (default true). */
  autoRefresh?: boolean;
  /** The WebAuthn API passkeys use (default: navigator.credentials). */
  credentials?: CredentialsContainer;
}

export interface AuthClient {
  /** The signed-in user, or null. */
  readonly user: User | null;
  /**
   * Signs in (every tab of this origin follows); rejects with an AuthError (401, 429, 400), or,
   * when a second factor is due, with an AuthError whose `mfa` is the challenge to complete.
   */
  login(credentials: Credentials): Promise<User>;
  /** Completes a login challenge with its code (TOTP, recovery or emailed); rejects with the next
   * challenge as login() does when one follows (a second factor after an emailed code). */
  loginWithCode(answer: { mfaToken: string; code: string }): Promise<User>;
  /** For an "enrol_totp" challenge: enrols a TOTP factor (shown once), to prove with loginWithCode. */
  enrolDuringLogin(mfaToken: string): Promise<TotpEnrolment>;
  /**
   * Signs in with a passkey (every tab follows): options from the API, the browser's WebAuthn
   * ceremony, then the session. Naming the account is optional (a discoverable passkey names it).
   */
  loginWithPasskey(account?: { email?: string; userType?: string }): Promise<User>;
  /**
   * Creates a passkey for the signed-in user and stores it at the API; rejects with status 403 (and
   * onStepUp listeners hear it) when the login is too old: sign in again first.
   */
  registerPasskey(options?: { name?: string }): Promise<Passkey>;
  /** After a page load: the session the refresh cookie (or the storage) still holds, or null. */
  restore(): Promise<User | null>;
  /** Ends this session at the API and in every tab; rejects (signed out all the same) if the API could not be told. */
  logout(): Promise<void>;
  /** Ends every session of the user, on every device; rejects like logout. */
  logoutAll(): Promise<void>;
  /** Changes the password and adopts the fresh session the API answers with; a wrong current password rejects with status 400 and field "current_password". */
  changePassword(currentPassword: string, newPassword: string): Promise<void>;
  /**
   * fetch() for routes of the API: `path` is relative to baseUrl (absolute URLs outside it are
   * refused). Adds the bearer token; on a 401 refreshes once (one tab at a time) and retries; if
   * that fails too, signs out and returns the 401.
   */
  fetch(path: string | URL, init?: RequestInit): Promise<Response>;
  /** Called when the session ends, here or in another tab; returns the unsubscribe function. */
  onSignedOut(listener: (event: SignedOutEvent) => void): () => void;
  /**
   * Called when a route refused the call because it needs a fresh login with a second factor
   * (`maxAge` seconds at most): sign in again with the second factor, then retry.
   */
  onStepUp(listener: (event: StepUpEvent) => void): () => void;
  /** Called with the new user (or null) whenever it changes, here or in another tab. */
  onChange(listener: (user: User | null) => void): () => void;
  /** Stops timers, listeners and the channel to other tabs. */
  close(): void;
}

/** A login that needs a second factor: complete it with `loginWithCode`. */
export interface MfaChallenge {
  /** totp: the authenticator app's code (or a recovery code); enrol_totp: enrol first; email_code:
   * the code just emailed (the account's failed logins reached its ceiling and this place is new). */
  challenge: "totp" | "enrol_totp" | "email_code";
  mfaToken: string;
  expiresIn: number;
}

/** A new TOTP factor: its secret, otpauth URI, QR code (SVG) and ten recovery codes, shown once. */
export interface TotpEnrolment {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
  recovery_codes: string[];
}

/** A passkey of the signed-in user, as the API lists it. */
export interface Passkey {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  transports: string[];
  synced: boolean;
}

/** The options of POST /auth/passkeys/register/options, decoded for navigator.credentials.create(). */
export declare function creationOptionsFromJSON(json: Record<string, unknown>): PublicKeyCredentialCreationOptions;
/** The options of POST /auth/login/passkey/options, decoded for navigator.credentials.get(). */
export declare function requestOptionsFromJSON(json: Record<string, unknown>): PublicKeyCredentialRequestOptions;
/** A new credential or an assertion, in the JSON encoding the API takes. */
export declare function credentialToJSON(credential: PublicKeyCredential): Record<string, unknown>;

/** An answer of the API that is not a success (`status`), or none at all (`status` 0). */
export declare class AuthError extends Error {
  readonly name: "AuthError";
  readonly status: number;
  /** The offending input field (400). */
  readonly field?: string;
  /** Seconds to wait (429). */
  readonly retryAfter?: number;
  /** Set when login() needs a second factor. */
  readonly mfa?: MfaChallenge;
  /** The JSON body of the answer. */
  readonly body?: unknown;
}

export declare function createAuthClient(options: AuthClientOptions): AuthClient;
