// Unit tests of the web client against an in-memory API (tests/fake-api.js): `node --test`.
// Two clients with the same name and one browser (cookie jar) play two tabs of one origin: they
// share the lock, the change counter and a real BroadcastChannel.

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import { AuthError, createAuthClient, stepUpChallenge } from "../index.js";
import { createFakeApi } from "./fake-api.js";

const clients = [];
let names = 0;

function client(api, fetch, options = {}) {
  names += 1;
  const created = createAuthClient({ baseUrl: api.base, fetch, name: `test-${names}`, autoRefresh: false, ...options });
  clients.push(created);
  return created;
}

// A second tab of the same browser: same name, same cookie jar.
function tabs(api, options = {}) {
  const fetch = api.browser();
  const first = client(api, fetch, options);
  const second = createAuthClient({ baseUrl: api.base, fetch, name: `test-${names}`, autoRefresh: false, ...options });
  clients.push(second);
  return [first, second, fetch];
}

function credentials(api, extra = {}) {
  return { email: api.user.email, password: api.password, userType: "staff", ...extra };
}

function bearer(request) {
  return request.headers.get("authorization");
}

function events(client) {
  const seen = { signedOut: [], changes: [] };
  client.onSignedOut((event) => seen.signedOut.push(event));
  client.onChange((user) => seen.changes.push(user && user.email));
  return seen;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

// Messages between tabs arrive asynchronously: waits (at most 2 s) until `condition()` holds.
async function until(condition) {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 2000) throw new Error(`still false after 2 s: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

afterEach(() => {
  for (const created of clients.splice(0)) created.close();
});

describe("cookie mode", () => {
  test("login asks for the cookie, keeps no refresh token and knows the user", async () => {
    const api = createFakeApi();
    const auth = client(api, api.browser());
    assert.equal(auth.user, null);
    const user = await auth.login(credentials(api));
    assert.deepEqual(user, api.user);
    assert.deepEqual(auth.user, api.user);
    const [login] = api.requests;
    assert.equal(login.path, "/auth/login");
    assert.equal(login.headers.get("x-token-transport"), "cookie");
    assert.equal(login.credentials, "include");
    assert.equal(login.headers.get("content-type"), "application/json");
    assert.deepEqual(login.body, credentials(api));
  });

  test("a login that needs a second factor rejects with the challenge, and a code completes it", async () => {
    const api = createFakeApi();
    api.totpCode = "123456";
    const auth = client(api, api.browser());
    const refused = await auth.login(credentials(api)).catch((error) => error);
    assert.ok(refused instanceof AuthError);
    assert.equal(refused.mfa.challenge, "totp");
    assert.equal(auth.user, null);
    const wrong = await auth.loginWithCode({ mfaToken: refused.mfa.mfaToken, code: "000000" }).catch((e) => e);
    assert.equal(wrong.status, 401);
    const user = await auth.loginWithCode({ mfaToken: refused.mfa.mfaToken, code: "123456" });
    assert.deepEqual(user, api.user);
    const second = api.requests.at(-1);
    assert.equal(second.path, "/auth/login/mfa");
    assert.equal(second.credentials, "include");
    assert.deepEqual(second.body, { mfa_token: refused.mfa.mfaToken, code: "123456" });
    const used = await auth.loginWithCode({ mfaToken: refused.mfa.mfaToken, code: "123456" }).catch((e) => e);
    assert.equal(used.status, 401); // a challenge is used once
  });

  test("fetch adds the bearer token, without cookies, below the stage path", async () => {
    const api = createFakeApi({ base: "https://api.test/prod" });
    const auth = client(api, api.browser(), { baseUrl: "https://api.test/prod/" });
    await auth.login(credentials(api));
    const response = await auth.fetch("/cars", { method: "POST", body: "{}", headers: { "X-Extra": "1" } });
    assert.equal(response.status, 200);
    const call = api.requests.at(-1);
    assert.equal(call.path, "/cars");
    assert.match(bearer(call), /^Bearer [\w-]+\.[\w-]+\.sig\d+$/);
    assert.equal(call.headers.get("x-extra"), "1");
    assert.equal(call.headers.get("x-token-transport"), null);
    assert.equal(call.credentials, "omit");
    assert.equal((await auth.fetch("cars")).status, 200);
    assert.equal((await auth.fetch("https://api.test/prod/auth/me")).status, 200);
    await assert.rejects(auth.fetch("https://elsewhere.test/prod/cars"), TypeError);
    await assert.rejects(auth.fetch("https://api.test/production"), TypeError);
  });

  test("a 401 refreshes from the cookie once and retries; concurrent 401s share that refresh", async () => {
    const api = createFakeApi({ refreshDelayMs: 20 });
    const auth = client(api, api.browser());
    await auth.login(credentials(api));
    api.expire();
    const responses = await Promise.all([auth.fetch("/cars"), auth.fetch("/auth/me"), auth.fetch("/cars")]);
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 200, 200],
    );
    assert.equal(api.count("/auth/refresh"), 1);
    const refresh = api.requests.find((r) => r.path === "/auth/refresh");
    assert.equal(refresh.headers.get("x-token-transport"), "cookie");
    assert.equal(refresh.credentials, "include");
    assert.equal(refresh.body, null);
    assert.ok(refresh.cookie);
  });

  test("when the refresh is refused too, it signs out and returns the 401", async () => {
    const api = createFakeApi();
    const auth = client(api, api.browser());
    const seen = events(auth);
    await auth.login(credentials(api));
    for (const session of api.sessions.values()) session.revoked = true;
    const response = await auth.fetch("/cars");
    assert.equal(response.status, 401);
    assert.equal(auth.user, null);
    assert.deepEqual(seen.signedOut, [{ reason: "session-ended", remote: false }]);
    assert.deepEqual(seen.changes, [api.user.email, null]);
    assert.equal(api.count("/auth/refresh"), 1);
    assert.equal(api.count("/cars"), 1);
  });

  test("a fresh token refused as well signs out after one retry", async () => {
    const api = createFakeApi();
    const browser = api.browser();
    // Every call to /cars answers 401, even with a fresh token.
    const fetch = async (url, init) => (url.endsWith("/cars") ? new Response(null, { status: 401 }) : browser(url, init));
    const auth = client(api, fetch);
    const seen = events(auth);
    await auth.login(credentials(api));
    assert.equal((await auth.fetch("/cars")).status, 401);
    assert.equal(api.count("/auth/refresh"), 1);
    assert.equal(auth.user, null);
    assert.deepEqual(seen.signedOut, [{ reason: "session-ended", remote: false }]);
  });

  test("403, 500 and an unreachable refresh leave the session alone", async () => {
    const api = createFakeApi();
    const browser = api.browser();
    let refreshFails = false;
    const fetch = (url, init) =>
      refreshFails && url.endsWith("/auth/refresh") ? Promise.reject(new TypeError("offline")) : browser(url, init);
    const auth = client(api, fetch);
    await auth.login(credentials(api));
    assert.equal((await auth.fetch("/admin-only")).status, 403);
    assert.equal((await auth.fetch("/broken")).status, 500);
    assert.equal(api.count("/auth/refresh"), 0);
    api.expire();
    refreshFails = true;
    assert.equal((await auth.fetch("/cars")).status, 401);
    assert.deepEqual(auth.user, api.user, "a network failure is not the end of the session");
    refreshFails = false;
    assert.equal((await auth.fetch("/cars")).status, 200);
  });

  test("a step-up refusal is told to the app, keeps the session and refreshes nothing", async () => {
    const api = createFakeApi();
    const auth = client(api, api.browser());
    const asked = [];
    auth.onStepUp((event) => asked.push(event));
    await auth.login(credentials(api));
    const response = await auth.fetch("/step-up-only", { method: "DELETE" });
    assert.equal(response.status, 403);
    assert.deepEqual(await stepUpChallenge(response), { maxAge: 900 });
    assert.equal((await response.json()).error, "insufficient_user_authentication", "the body is still readable");
    assert.deepEqual(asked, [{ path: "/step-up-only", maxAge: 900 }]);
    assert.equal(api.count("/auth/refresh"), 0);
    assert.deepEqual(auth.user, api.user);
    assert.equal(await stepUpChallenge(await auth.fetch("/admin-only")), null, "a plain 403 is no step-up");
    assert.equal(asked.length, 1);
  });

  test("network errors of the app's own calls reach the app", async () => {
    const api = createFakeApi();
    const auth = client(api, api.browser());
    await auth.login(credentials(api));
    api.down = true;
    await assert.rejects(auth.fetch("/cars"), TypeError);
    await assert.rejects(auth.login(credentials(api)), (error) => error instanceof AuthError && error.status === 0);
  });

  test("restore brings back the cookie's session after a reload, and says null without one", async () => {
    const api = createFakeApi();
    const browser = api.browser();
    const first = client(api, browser);
    await first.login(credentials(api));
    first.close();
    const reloaded = client(api, browser);
    assert.deepEqual(await reloaded.restore(), api.user);
    assert.equal((await reloaded.fetch("/cars")).status, 200);
    assert.deepEqual(await reloaded.restore(), api.user, "no second refresh when signed in");
    assert.equal(api.count("/auth/refresh"), 1);

    const stranger = client(api, api.browser());
    const seen = events(stranger);
    assert.equal(await stranger.restore(), null);
    assert.deepEqual(seen.signedOut, [], "never signed in: nothing to announce");
  });

  test("login failures are AuthErrors with the status, field and Retry-After", async () => {
    const api = createFakeApi();
    const auth = client(api, api.browser());
    await assert.rejects(
      auth.login(credentials(api, { password: "wrong" })),
      (error) => error instanceof AuthError && error.status === 401 && error.message === "Invalid credentials",
    );
    await assert.rejects(
      auth.login({ password: "x", userType: "staff" }),
      (error) => error.status === 400 && error.field === "email",
    );
    api.locked = true;
    await assert.rejects(auth.login(credentials(api)), (error) => error.status === 429 && error.retryAfter === 30);
    assert.equal(auth.user, null);
  });

  test("logout ends the session at the API and locally, and clears the cookie", async () => {
    const api = createFakeApi();
    const browser = api.browser();
    const auth = client(api, browser);
    const seen = events(auth);
    await auth.login(credentials(api));
    await auth.logout();
    const logout = api.requests.at(-1);
    assert.equal(logout.path, "/auth/logout");
    assert.match(bearer(logout), /^Bearer /);
    assert.equal(logout.headers.get("x-token-transport"), "cookie");
    assert.equal(logout.credentials, "include");
    assert.equal(browser.jar.refresh, null);
    assert.equal(auth.user, null);
    assert.deepEqual(seen.signedOut, [{ reason: "logout", remote: false }]);
  });

  test("logout with an expired access token refreshes first, so the API still ends the session", async () => {
    const api = createFakeApi();
    const auth = client(api, api.browser());
    await auth.login(credentials(api));
    api.expire();
    await auth.logout();
    assert.deepEqual(
      api.requests.map((r) => `${r.path} ${r.path === "/auth/login" ? "" : r.headers.get("authorization") ? "bearer" : "-"}`),
      ["/auth/login ", "/auth/logout bearer", "/auth/refresh -", "/auth/logout bearer"],
    );
    assert.ok([...api.sessions.values()].every((s) => s.revoked));
  });

  test("logout signs out locally even when the API cannot be told, and says so", async () => {
    const api = createFakeApi();
    const auth = client(api, api.browser());
    await auth.login(credentials(api));
    api.down = true;
    await assert.rejects(auth.logout(), (error) => error instanceof AuthError && error.status === 0);
    assert.equal(auth.user, null);
  });

  test("changePassword adopts the fresh session the API answers with", async () => {
    const api = createFakeApi();
    const auth = client(api, api.browser());
    await auth.login(credentials(api));
    const before = bearer(api.requests.at(-1)) || null;
    await auth.fetch("/cars");
    const oldToken = bearer(api.requests.at(-1));
    assert.equal(before, null);

    await assert.rejects(
      auth.changePassword("not it", "a much longer new password"),
      (error) => error.status === 400 && error.field === "current_password",
    );
    assert.deepEqual(auth.user, api.user, "a wrong current password changes nothing");

    await auth.changePassword(api.password, "a much longer new password");
    const change = api.requests.at(-1);
    assert.deepEqual(change.body, { current_password: "correct horse battery staple", new_password: "a much longer new password" });
    assert.equal(change.headers.get("x-token-transport"), "cookie");
    assert.equal(change.credentials, "include");
    assert.equal((await auth.fetch("/cars")).status, 200);
    const newToken = bearer(api.requests.at(-1));
    assert.notEqual(newToken, oldToken);
    assert.equal(api.count("/auth/refresh"), 0, "the answer is the new session: no refresh needed");
    assert.deepEqual(auth.user, api.user);
  });
});

describe("body mode", () => {
  test("the refresh token travels in the body and stays in memory", async () => {
    const api = createFakeApi();
    const auth = client(api, api.browser(), { transport: "body" });
    await auth.login(credentials(api));
    const login = api.requests[0];
    assert.equal(login.headers.get("x-token-transport"), null);
    assert.equal(login.credentials, "omit");
    api.expire();
    assert.equal((await auth.fetch("/cars")).status, 200);
    const refresh = api.requests.find((r) => r.path === "/auth/refresh");
    assert.match(refresh.body.refresh_token, /^s\d+\.r\d+$/);
    assert.equal(refresh.credentials, "omit");
    await auth.logout();
    const logout = api.requests.at(-1);
    assert.equal(logout.path, "/auth/logout");
    assert.equal(logout.body.refresh_token, [...api.sessions.values()][0].refresh, "the newest refresh token");
  });

  test("with a storage the session survives a reload; logout empties it", async () => {
    const api = createFakeApi();
    const data = new Map();
    const storage = {
      getItem: (key) => (data.has(key) ? data.get(key) : null),
      setItem: (key, value) => data.set(key, value),
      removeItem: (key) => data.delete(key),
    };
    const fetch = api.browser();
    const first = client(api, fetch, { transport: "body", storage, name: "stored" });
    await first.login(credentials(api));
    assert.deepEqual([...data.keys()], ["stored:refresh_token"]);
    first.close();
    const reloaded = client(api, fetch, { transport: "body", storage, name: "stored" });
    assert.deepEqual(await reloaded.restore(), api.user);
    assert.equal(data.get("stored:refresh_token"), [...api.sessions.values()][0].refresh);
    await reloaded.logout();
    assert.equal(data.size, 0);
    const again = client(api, fetch, { transport: "body", storage, name: "stored" });
    assert.equal(await again.restore(), null);
    assert.equal(api.count("/auth/refresh"), 1, "no token, no call");
  });

  test("changePassword keeps the new refresh token", async () => {
    const api = createFakeApi();
    const auth = client(api, api.browser(), { transport: "body" });
    await auth.login(credentials(api));
    await auth.changePassword(api.password, "another long password here");
    api.expire();
    assert.equal((await auth.fetch("/cars")).status, 200);
    const refresh = api.requests.find((r) => r.path === "/auth/refresh");
    const newest = [...api.sessions.entries()].at(-1)[0];
    assert.ok(refresh.body.refresh_token.startsWith(`${newest}.`));
  });
});

describe("tabs", () => {
  test("two tabs refreshing at once: one rotation, both keep working with the same token", async () => {
    const api = createFakeApi({ refreshDelayMs: 30 });
    const [one, two] = tabs(api);
    await one.login(credentials(api));
    await until(() => two.user);
    assert.deepEqual(two.user, api.user, "the other tab follows the login");
    api.expire();
    const [a, b] = await Promise.all([one.fetch("/cars"), two.fetch("/cars")]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    assert.equal(api.rotations, 1);
    assert.equal(api.count("/auth/refresh"), 1);
    const retried = api.requests.filter((r) => r.path === "/cars").slice(-2).map(bearer);
    assert.equal(retried[0], retried[1]);
    assert.equal((await two.fetch("/auth/me")).status, 200);
    assert.equal(api.count("/auth/refresh"), 1);
  });

  test("the same with Web Locks: every session change takes the one lock", async () => {
    const requested = [];
    const queues = new Map();
    const locks = {
      request(name, options, task) {
        requested.push([name, options.mode]);
        const run = (queues.get(name) || Promise.resolve()).then(() => task());
        queues.set(name, run.catch(() => {}));
        return run;
      },
    };
    const original = Object.getOwnPropertyDescriptor(globalThis, "navigator");
    Object.defineProperty(globalThis, "navigator", { value: { locks }, configurable: true, writable: true });
    try {
      const api = createFakeApi({ refreshDelayMs: 30 });
      const [one, two] = tabs(api);
      await one.login(credentials(api));
      await until(() => two.user);
      api.expire();
      const statuses = (await Promise.all([one.fetch("/cars"), two.fetch("/cars")])).map((r) => r.status);
      assert.deepEqual(statuses, [200, 200]);
      assert.equal(api.rotations, 1);
      assert.ok(requested.length >= 3);
      assert.ok(requested.every(([name, mode]) => name === `test-${names}` && mode === "exclusive"));
    } finally {
      if (original) Object.defineProperty(globalThis, "navigator", original);
      else delete globalThis.navigator;
    }
  });

  test("a logout in one tab signs out the other, which calls nothing", async () => {
    const api = createFakeApi();
    const [one, two] = tabs(api);
    const seen = events(two);
    await one.login(credentials(api));
    await until(() => two.user);
    const calls = api.requests.length;
    await one.logout();
    await until(() => seen.signedOut.length);
    await settle();
    assert.equal(two.user, null);
    assert.deepEqual(seen.signedOut, [{ reason: "logout", remote: true }]);
    assert.deepEqual(seen.changes, [api.user.email, null]);
    assert.equal(api.requests.length, calls + 1, "one logout call, from the tab that logged out");
  });

  test("logout everywhere reaches the other tab with its reason", async () => {
    const api = createFakeApi();
    const [one, two] = tabs(api);
    const seen = events(two);
    await one.login(credentials(api));
    await until(() => two.user);
    await one.logoutAll();
    await until(() => seen.signedOut.length);
    assert.deepEqual(seen.signedOut, [{ reason: "logout-all", remote: true }]);
  });

  test("a refused session in one tab signs out the other", async () => {
    const api = createFakeApi();
    const [one, two] = tabs(api);
    const seen = events(two);
    await one.login(credentials(api));
    await until(() => two.user);
    for (const session of api.sessions.values()) session.revoked = true;
    assert.equal((await one.fetch("/cars")).status, 401);
    await until(() => seen.signedOut.length);
    assert.deepEqual(seen.signedOut, [{ reason: "session-ended", remote: true }]);
  });

  test("a password change in one tab moves the other to the fresh session", async () => {
    const api = createFakeApi();
    const [one, two] = tabs(api);
    await one.login(credentials(api));
    await until(() => two.user);
    await one.changePassword(api.password, "the new and long password");
    assert.equal((await two.fetch("/cars")).status, 200);
    assert.equal(api.count("/auth/refresh"), 0);
  });

  test("a tab that waited for the lock adopts the change made meanwhile instead of rotating again", async () => {
    const api = createFakeApi({ refreshDelayMs: 30 });
    const [one, two] = tabs(api);
    await one.login(credentials(api));
    await until(() => two.user);
    api.expire();
    // One tab renews; the other asks while it does, from its restore() after a reload.
    const renewing = one.fetch("/cars");
    await new Promise((resolve) => setTimeout(resolve, 5));
    const [response] = await Promise.all([renewing, two.fetch("/auth/me")]);
    assert.equal(response.status, 200);
    assert.equal(api.rotations, 1);
  });
});

describe("the timer", () => {
  test("renews the access token before it expires", async () => {
    const api = createFakeApi({ expiresIn: 1 });
    const auth = client(api, api.browser(), { autoRefresh: true });
    await auth.login(credentials(api));
    await new Promise((resolve) => setTimeout(resolve, 1300));
    assert.equal(api.count("/auth/refresh"), 1);
    auth.close();
  });
});

describe("options", () => {
  test("are checked", () => {
    assert.throws(() => createAuthClient({ baseUrl: "/relative" }), TypeError);
    assert.throws(() => createAuthClient({ baseUrl: "https://a.test?x=1" }), TypeError);
    assert.throws(() => createAuthClient({ baseUrl: "https://a.test", transport: "header" }), TypeError);
  });

  test("a listener that throws does not stop the others, and can unsubscribe", async () => {
    const api = createFakeApi();
    const auth = client(api, api.browser());
    const calls = [];
    const uncaught = [];
    const original = globalThis.reportError;
    globalThis.reportError = (error) => uncaught.push(error.message);
    try {
      auth.onChange(() => {
        throw new Error("listener bug");
      });
      const stop = auth.onChange((user) => calls.push(user && user.email));
      await auth.login(credentials(api));
      stop();
      await auth.logout();
      await settle();
      assert.deepEqual(calls, [api.user.email]);
      assert.deepEqual(uncaught, ["listener bug", "listener bug"]);
    } finally {
      globalThis.reportError = original;
    }
  });
});

describe("the types", () => {
  test("index.d.ts declares what the module exports and the client has", async () => {
    const { readFile } = await import("node:fs/promises");
    const declarations = await readFile(new URL("../index.d.ts", import.meta.url), "utf8");
    const exported = [...declarations.matchAll(/^export declare (?:class|function) (\w+)/gm)].map((m) => m[1]);
    const module = await import("../index.js");
    assert.deepEqual(exported.sort(), Object.keys(module).sort());
    const body = /export interface AuthClient \{([\s\S]*?)\n\}/.exec(declarations)[1];
    const members = [...body.matchAll(/^ {2}(?:readonly )?(\w+)[(:]/gm)].map((m) => m[1]);
    const api = createFakeApi();
    assert.deepEqual(members.sort(), Object.keys(client(api, api.browser())).sort());
  });
});
