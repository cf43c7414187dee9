// serverless-jwt-auth-client: the browser side of the JWT auth service, with no dependencies.
//
// The access token lives in this module's memory only (never in Web Storage or a readable cookie).
// In cookie mode the refresh token is an HttpOnly cookie the page cannot read; in body mode it is
// kept in memory too, unless the app passes a `storage`.
//
// Tabs of one origin share one session, and never race its rotation:
// - every step that changes the session (login, refresh, password change, logout) runs under one
//   Web Lock (navigator.locks) named after the client, so only one tab at a time presents the
//   refresh token;
// - the tab that changed it tells the others on a BroadcastChannel (a new access token, or "signed
//   out"), and they adopt it: a logout in one tab signs out every tab;
// - each change is numbered, and the number is also written to IndexedDB before the lock is
//   released. IndexedDB is the one storage every tab reads consistently, so a tab that was waiting
//   for the lock learns for certain that another tab has just refreshed, and waits for that tab's
//   message instead of rotating the token a second time. The number is not a secret.
// Without Web Locks, BroadcastChannel or IndexedDB (older browsers, Node.js) the same rules hold
// within one JavaScript realm.

const COOKIE_MODE = { "X-Token-Transport": "cookie" };
const RENEW_BEFORE_EXPIRY_SECONDS = 60;
const BROADCAST_WAIT_MS = 3000; // how long a tab waits for the message of a change it knows was made
const DATABASE = "serverless-jwt-auth-client";
const STORE = "generations";
const STEP_UP_ERROR = "insufficient_user_authentication"; // RFC 9470

/**
 * The step-up challenge of an answer, or null: the route needs a login with a second factor made
 * at most `maxAge` seconds ago. API Gateway sends it as its 403 (an authorizer cannot choose a 401
 * of its own), with RFC 9470's `error` and `max_age` in the body. Reads a copy of the response.
 */
export async function stepUpChallenge(response) {
  if (!response || response.status !== 403) return null;
  const body = await readJson(response.clone());
  if (!body || body.error !== STEP_UP_ERROR) return null;
  return { maxAge: Number.isSafeInteger(body.max_age) ? body.max_age : 0 };
}

// -- passkeys (WebAuthn): the JSON encoding of the options and credentials, both ways ---------------
// Browsers now offer PublicKeyCredential.parseCreationOptionsFromJSON and credential.toJSON(); these
// do the same by hand, so older browsers work too.

function fromBase64url(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
}

function toBase64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const descriptors = (list) => (list || []).map((entry) => ({ ...entry, id: fromBase64url(entry.id) }));

/** PublicKeyCredentialCreationOptions from the JSON POST /auth/passkeys/register/options answers. */
export function creationOptionsFromJSON(json) {
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  };
}

/** PublicKeyCredentialRequestOptions from the JSON POST /auth/login/passkey/options answers. */
export function requestOptionsFromJSON(json) {
  return { ...json, challenge: fromBase64url(json.challenge), allowCredentials: descriptors(json.allowCredentials) };
}

/** A PublicKeyCredential (a new one, or an assertion) in the JSON encoding the API takes. */
export function credentialToJSON(credential) {
  const { response } = credential;
  const encoded = { clientDataJSON: toBase64url(response.clientDataJSON) };
  if (response.attestationObject) {
    encoded.attestationObject = toBase64url(response.attestationObject);
    if (typeof response.getTransports === "function") encoded.transports = response.getTransports();
  } else {
    encoded.authenticatorData = toBase64url(response.authenticatorData);
    encoded.signature = toBase64url(response.signature);
    if (response.userHandle) encoded.userHandle = toBase64url(response.userHandle);
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
    clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    response: encoded,
  };
}

/** An answer of the API that is not a success, or no answer at all (`status` 0). */
export class AuthError extends Error {
  constructor(message, { status = 0, field, retryAfter, body, mfa, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "AuthError";
    this.status = status;
    if (field !== undefined) this.field = field;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
    if (body !== undefined) this.body = body;
    if (mfa !== undefined) this.mfa = mfa;
  }
}

export function createAuthClient(options) {
  const {
    baseUrl,
    transport = "cookie",
    fetch: send = (...args) => globalThis.fetch(...args),
    storage = null,
    autoRefresh = true,
    credentials = globalThis.navigator?.credentials, // the WebAuthn API (passkeys)
  } = options || {};
  if (typeof baseUrl !== "string" || !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/i.test(baseUrl)) {
    throw new TypeError("baseUrl must be an absolute http(s) URL with no query or fragment");
  }
  if (transport !== "cookie" && transport !== "body") {
    throw new TypeError('transport must be "cookie" or "body"');
  }
  const base = baseUrl.replace(/\/+$/, "");
  const name = options.name || `serverless-jwt-auth:${base}`; // one per API: the lock's and the channel's
  const storageKey = `${name}:refresh_token`;
  const shared = coordination(name);

  let session = null; // { accessToken, expiresAt, user, refreshToken? }
  let generation = 0; // the number of the newest change this tab knows of
  let renewing = null; // { seen, promise }: concurrent 401s of this tab share one renewal
  let timer = null;
  let closed = false;
  const waiters = new Set();
  const signedOutListeners = new Set();
  const changeListeners = new Set();
  const stepUpListeners = new Set();

  if (shared.channel) shared.channel.onmessage = (event) => receive(event.data);

  // -- HTTP ------------------------------------------------------------------------------------

  function url(path) {
    const text = String(path);
    if (/^[a-z][a-z\d+.-]*:/i.test(text)) {
      if (text === base || text.startsWith(`${base}/`) || text.startsWith(`${base}?`)) return text;
      throw new TypeError(`refusing to send the access token outside ${base}: ${text}`);
    }
    return base + (text.startsWith("/") ? text : `/${text}`);
  }

  // One call of the auth API. `tokens`: the answer may carry tokens, or the call needs the refresh
  // cookie (cookie mode: the opt-in header and credentials; body mode: neither).
  async function call(path, { json, token, tokens = false } = {}) {
    const headers = new Headers(tokens && transport === "cookie" ? COOKIE_MODE : {});
    if (json !== undefined) headers.set("Content-Type", "application/json");
    if (token) headers.set("Authorization", `Bearer ${token}`);
    try {
      return await send(url(path), {
        method: "POST",
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
        credentials: tokens && transport === "cookie" ? "include" : "omit",
        cache: "no-store",
      });
    } catch (error) {
      throw new AuthError("The API cannot be reached", { cause: error });
    }
  }

  async function failure(response) {
    const body = await readJson(response);
    const message = (body && typeof body.message === "string" && body.message) || `HTTP ${response.status}`;
    const retryAfter = Number.parseInt(response.headers.get("Retry-After") || "", 10);
    return new AuthError(message, {
      status: response.status,
      field: body && typeof body.field === "string" ? body.field : undefined,
      retryAfter: Number.isNaN(retryAfter) ? undefined : retryAfter,
      body: body === null ? undefined : body,
    });
  }

  // -- the session and the other tabs ---------------------------------------------------------

  function sessionFrom(data, user) {
    if (!data || typeof data.access_token !== "string") throw new AuthError("The API answered without a token");
    const expiresIn = Number(data.expires_in) > 0 ? Number(data.expires_in) : 900;
    const next = {
      accessToken: data.access_token,
      expiresAt: Date.now() + expiresIn * 1000,
      user: userOf(user, data.access_token),
    };
    if (transport === "body") {
      next.refreshToken = typeof data.refresh_token === "string" ? data.refresh_token : session?.refreshToken;
    }
    return next;
  }

  // Call with the lock held: makes `next` (a session, or null) this tab's and every tab's.
  async function publish(next, reason) {
    const number = Math.max(generation, await shared.read()) + 1;
    generation = number;
    apply(next, reason, false);
    shared.channel?.postMessage({ generation: number, session: next, reason });
    await shared.write(number);
  }

  function receive(message) {
    if (!message || !Number.isSafeInteger(message.generation) || message.generation <= generation) return;
    const next = message.session;
    if (next !== null && (typeof next !== "object" || typeof next.accessToken !== "string")) return;
    generation = message.generation;
    apply(next, message.reason, true);
  }

  function apply(next, reason, remote) {
    const before = session;
    session = next;
    if (transport === "body" && storage) {
      if (next?.refreshToken) storage.setItem(storageKey, next.refreshToken);
      else storage.removeItem(storageKey);
    }
    schedule();
    for (const waiter of [...waiters]) waiter();
    if (before && !next) emit(signedOutListeners, { reason: reason || "session-ended", remote });
    if (JSON.stringify(before?.user ?? null) !== JSON.stringify(next?.user ?? null)) {
      emit(changeListeners, next ? next.user : null);
    }
  }

  function emit(listeners, value) {
    for (const listener of [...listeners]) {
      try {
        listener(value);
      } catch (error) {
        // Reported like any uncaught error, without stopping the other listeners.
        if (typeof globalThis.reportError === "function") globalThis.reportError(error);
        else
          setTimeout(() => {
            throw error;
          });
      }
    }
  }

  function waitForGeneration(number) {
    if (generation >= number) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value) => {
        clearTimeout(timeout);
        waiters.delete(check);
        resolve(value);
      };
      const check = () => generation >= number && done(true);
      const timeout = setTimeout(() => done(false), BROADCAST_WAIT_MS);
      waiters.add(check);
    });
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (!session || !autoRefresh || closed) return;
    const seconds = (session.expiresAt - Date.now()) / 1000;
    const delay = Math.max(seconds - RENEW_BEFORE_EXPIRY_SECONDS, seconds / 2, 1);
    const seen = generation;
    timer = setTimeout(() => {
      renew(seen).catch(() => {}); // a failure here shows on the next call anyway
    }, delay * 1000);
  }

  // -- refresh ---------------------------------------------------------------------------------

  // With the lock held: presents the refresh token once. "ok", "rejected" (the session is over:
  // signed out with `reason`) or "unavailable" (no answer, 429 or 5xx: nothing changes).
  async function refreshLocked(reason = "session-ended") {
    let json;
    if (transport === "body") {
      const token = session?.refreshToken || storage?.getItem(storageKey);
      if (!token) {
        await publishIfSignedIn(reason);
        return "rejected";
      }
      json = { refresh_token: token };
    }
    let response;
    try {
      response = await call("/auth/refresh", { json, tokens: true });
    } catch {
      return "unavailable";
    }
    if (response.ok) {
      try {
        await publish(sessionFrom(await readJson(response)), "refresh");
      } catch {
        return "unavailable";
      }
      return "ok";
    }
    if (response.status === 400 || response.status === 401) {
      await publishIfSignedIn(reason);
      return "rejected";
    }
    return "unavailable";
  }

  async function publishIfSignedIn(reason) {
    if (session) await publish(null, reason);
    else if (transport === "body" && storage) storage.removeItem(storageKey);
  }

  // Gets a session newer than change number `seen` (whose access token failed or is about to):
  // adopts the one another tab has just made, or refreshes, with the lock held.
  function renew(seen) {
    if (renewing && renewing.seen === seen) return renewing.promise;
    const promise = shared
      .exclusive(async () => {
        if (generation > seen) return session ? "ok" : "rejected";
        const stored = await shared.read();
        if (stored > seen && (await waitForGeneration(stored))) return session ? "ok" : "rejected";
        return refreshLocked();
      })
      .finally(() => {
        if (renewing?.promise === promise) renewing = null;
      });
    renewing = { seen, promise };
    return promise;
  }

  // Calls an auth route with the access token, refreshing once on a 401; the lock must be held.
  async function authorizedLocked(path, json, reason) {
    let response = await call(path, { json: json?.(), token: session?.accessToken, tokens: true });
    if (response.status === 401 && (await refreshLocked(reason)) === "ok") {
      response = await call(path, { json: json?.(), token: session.accessToken, tokens: true });
    }
    return response;
  }

  // -- what the app calls ------------------------------------------------------------------------

  // With a code due, login() throws an AuthError whose `mfa` is the challenge ({ challenge:
  // "totp" | "enrol_totp" | "email_code", mfaToken, expiresIn }); loginWithCode() completes it, or
  // throws the next one (after an emailed code, the account's second factor may follow).
  async function signedInOrChallenged(response) {
    if (!response.ok) throw await failure(response);
    const data = await readJson(response);
    if (data && data.mfa_required === true && typeof data.mfa_token === "string") {
      throw new AuthError("A code is required", {
        status: response.status,
        body: data,
        mfa: { challenge: data.challenge, mfaToken: data.mfa_token, expiresIn: data.expires_in },
      });
    }
    await publish(sessionFrom(data, data && data.user), "login");
    return session.user;
  }

  async function login(credentials) {
    return shared.exclusive(async () =>
      signedInOrChallenged(await call("/auth/login", { json: credentials, tokens: true })));
  }

  async function loginWithCode({ mfaToken, code }) {
    return shared.exclusive(async () =>
      signedInOrChallenged(await call("/auth/login/mfa", { json: { mfa_token: mfaToken, code }, tokens: true })));
  }

  // For an "enrol_totp" challenge: the new factor (secret, otpauth_uri, qr_svg, recovery_codes).
  async function enrolDuringLogin(mfaToken) {
    const response = await call("/auth/login/mfa/enrol", { json: { mfa_token: mfaToken } });
    if (!response.ok) throw await failure(response);
    return readJson(response);
  }

  // A passkey sign-in: options (naming an account is optional), the browser's ceremony, then the
  // session, as login() gives one (with no second step: a passkey counts as two factors).
  async function loginWithPasskey({ email, userType } = {}) {
    if (!credentials) throw new AuthError("This browser has no WebAuthn (passkeys)");
    const named = email ? { email, userType } : {};
    const options = await call("/auth/login/passkey/options", { json: named });
    if (!options.ok) throw await failure(options);
    let credential;
    try {
      credential = await credentials.get({ publicKey: requestOptionsFromJSON(await readJson(options)) });
    } catch (error) {
      throw new AuthError(error.name === "NotAllowedError" ? "The passkey sign-in was cancelled" : error.message, { cause: error });
    }
    return shared.exclusive(async () => {
      const response = await call("/auth/login/passkey", { json: { credential: credentialToJSON(credential) }, tokens: true });
      if (!response.ok) throw await failure(response);
      const data = await readJson(response);
      await publish(sessionFrom(data, data && data.user), "login");
      return session.user;
    });
  }

  // A new passkey for the signed-in user: options, the browser's ceremony, then the stored passkey
  // ({ id, name, created_at, last_used_at, transports, synced }). A 403 with RFC 9470's error means
  // the login is too old for this: sign in again (onStepUp listeners hear it too).
  async function registerPasskey({ name } = {}) {
    if (!credentials) throw new AuthError("This browser has no WebAuthn (passkeys)");
    const post = (path, json) => authFetch(path, {
      method: "POST",
      headers: json === undefined ? undefined : { "Content-Type": "application/json" },
      body: json === undefined ? undefined : JSON.stringify(json),
      cache: "no-store",
    });
    const options = await post("/auth/passkeys/register/options");
    if (!options.ok) throw await failure(options);
    let credential;
    try {
      credential = await credentials.create({ publicKey: creationOptionsFromJSON(await readJson(options)) });
    } catch (error) {
      throw new AuthError(error.name === "NotAllowedError" ? "The passkey registration was cancelled" : error.message, { cause: error });
    }
    const json = { credential: credentialToJSON(credential) };
    if (name) json.name = name;
    const response = await post("/auth/passkeys/register", json);
    if (!response.ok) throw await failure(response);
    return readJson(response);
  }

  async function restore() {
    if (session) return session.user;
    const seen = Math.max(generation, await shared.read());
    const outcome = await renew(seen);
    return outcome === "ok" && session ? session.user : null;
  }

  async function authFetch(path, init = {}) {
    const target = url(path);
    const attempt = () => {
      const headers = new Headers(init.headers);
      if (session) headers.set("Authorization", `Bearer ${session.accessToken}`);
      return send(target, { credentials: "omit", ...init, headers });
    };
    // Signed out, a refresh may still find a session (the cookie, or another tab's): one newer than
    // any change made so far, so this tab does not wait for a message that was sent before it listened.
    const seen = session ? generation : Math.max(generation, await shared.read());
    let response = await attempt();
    if (response.status === 403) {
      const challenge = await stepUpChallenge(response);
      if (challenge) emit(stepUpListeners, { path: String(path), maxAge: challenge.maxAge });
      return response;
    }
    if (response.status !== 401) return response;
    if ((await renew(seen)) !== "ok") return response;
    const renewed = generation;
    response = await attempt();
    if (response.status === 401) {
      // The fresh token is refused too: this session is over (unless another tab moved on meanwhile).
      await shared.exclusive(async () => {
        if (generation === renewed && session) await publish(null, "session-ended");
      });
    }
    return response;
  }

  async function changePassword(currentPassword, newPassword) {
    return shared.exclusive(async () => {
      const json = () => ({ current_password: currentPassword, new_password: newPassword });
      const response = await authorizedLocked("/auth/password", json, "session-ended");
      if (!response.ok) {
        const error = await failure(response);
        if (response.status === 401) await publishIfSignedIn("session-ended");
        throw error;
      }
      // Every older session ended, this one too: the answer is the new one, for every tab.
      await publish(sessionFrom(await readJson(response), session?.user), "password-changed");
    });
  }

  // Ends the session at the API (`path`) and, whatever the API says, in every tab of this origin.
  async function end(path, reason) {
    return shared.exclusive(async () => {
      let problem = null;
      try {
        const json = path === "/auth/logout" && session?.refreshToken
          ? () => ({ refresh_token: session.refreshToken })
          : undefined;
        const response = await authorizedLocked(path, json, reason);
        if (!response.ok && response.status !== 401) problem = await failure(response);
      } catch (error) {
        problem = error;
      }
      await publishIfSignedIn(reason);
      if (problem) throw problem; // signed out here; the API may still hold the session
    });
  }

  function subscribe(listeners, listener) {
    if (typeof listener !== "function") throw new TypeError("listener must be a function");
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  return {
    get user() {
      return session ? session.user : null;
    },
    login,
    loginWithCode,
    enrolDuringLogin,
    loginWithPasskey,
    registerPasskey,
    restore,
    logout: () => end("/auth/logout", "logout"),
    logoutAll: () => end("/auth/logout-all", "logout-all"),
    changePassword,
    fetch: authFetch,
    onSignedOut: (listener) => subscribe(signedOutListeners, listener),
    onChange: (listener) => subscribe(changeListeners, listener),
    onStepUp: (listener) => subscribe(stepUpListeners, listener),
    close() {
      closed = true;
      clearTimeout(timer);
      shared.channel?.close();
      signedOutListeners.clear();
      changeListeners.clear();
      stepUpListeners.clear();
    },
  };
}

// -- helpers -------------------------------------------------------------------------------------

async function readJson(response) {
  try {
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

// The user as the login answer gives it, else from the access token's claims (shown, not trusted:
// the API checks the token on every call).
function userOf(user, accessToken) {
  const source = user && typeof user === "object" ? user : claimsOf(accessToken);
  const field = (value) => (typeof value === "string" ? value : "");
  return {
    id: field(source.id ?? source.sub),
    email: field(source.email),
    name: field(source.name),
    role: field(source.role),
    type: field(source.type),
  };
}

function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(part + "=".repeat((4 - (part.length % 4)) % 4));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    return claims && typeof claims === "object" ? claims : {};
  } catch {
    return {};
  }
}

// The lock, the channel and the change counter that tabs of one origin share for the client `name`.
// Fallbacks, when the platform lacks one, work within this JavaScript realm.
const realmQueues = new Map();
const realmGenerations = new Map();
let database = null;

function coordination(name) {
  const locks = globalThis.navigator?.locks;
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : null;
  return {
    channel,
    exclusive(task) {
      if (locks) return locks.request(name, { mode: "exclusive" }, () => task());
      const result = (realmQueues.get(name) || Promise.resolve()).then(() => task());
      const tail = result.then(
        () => {},
        () => {},
      );
      realmQueues.set(name, tail);
      tail.then(() => realmQueues.get(name) === tail && realmQueues.delete(name));
      return result;
    },
    async read() {
      const stored = await indexedDb("readonly", (store) => store.get(name)).catch(() => undefined);
      return Math.max(Number.isSafeInteger(stored) ? stored : 0, realmGenerations.get(name) || 0);
    },
    async write(number) {
      realmGenerations.set(name, Math.max(number, realmGenerations.get(name) || 0));
      await indexedDb("readwrite", (store) => store.put(number, name)).catch(() => undefined);
    },
  };
}

// One request in its own transaction; resolves once the transaction has committed.
async function indexedDb(mode, work) {
  if (typeof indexedDB === "undefined") return undefined;
  database ||= new Promise((resolve, reject) => {
    const opening = indexedDB.open(DATABASE, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
  const db = await database;
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const request = work(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = transaction.onabort = () => reject(transaction.error);
  });
}
