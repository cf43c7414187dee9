// An in-memory stand-in for the auth API, enough of its HTTP contract for the client's unit tests:
// login, refresh with rotation (a rotated token presented again ends the session), logout,
// logout-all, password change with a fresh session, cookie mode (X-Token-Transport: cookie, one
// cookie jar per browser, shared by its tabs) and body mode, and protected routes.

const PASSWORD = "correct horse battery staple";
const USER = { id: "u-1", email: "staff@dealership.example", name: "Sam Staff", role: "sales", type: "staff" };

function encode(value) {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

export function createFakeApi({ base = "https://api.test/prod", expiresIn = 900, refreshDelayMs = 0 } = {}) {
  let counter = 0;
  const sessions = new Map(); // sid -> { refresh, revoked }
  const accessTokens = new Map(); // token -> { sid, expired }
  const requests = [];
  const api = { base, requests, sessions, password: PASSWORD, user: USER, rotations: 0, down: false, locked: false };
  // A second factor (issue 16): with `api.totpCode` set, login answers a challenge that this code completes.
  api.totpCode = null;
  const challenges = new Set();

  function issue(sid) {
    counter += 1;
    const claims = { sub: USER.id, email: USER.email, name: USER.name, role: USER.role, type: USER.type, sid };
    const token = `${encode({ alg: "RS256", typ: "at+jwt" })}.${encode({ ...claims, jti: `j${counter}` })}.sig${counter}`;
    accessTokens.set(token, { sid, expired: false });
    return token;
  }

  function startSession() {
    counter += 1;
    const sid = `s${counter}`;
    const refresh = `${sid}.r${counter}`;
    sessions.set(sid, { refresh, revoked: false });
    return { sid, refresh, access: issue(sid) };
  }

  function caller(headers) {
    const match = /^Bearer (\S+)$/.exec(headers.get("authorization") || "");
    const known = match && accessTokens.get(match[1]);
    if (!known || known.expired || sessions.get(known.sid).revoked) return null;
    return known;
  }

  api.expire = (token) => {
    for (const [value, known] of accessTokens) if (!token || value === token) known.expired = true;
  };
  api.count = (path) => requests.filter((request) => request.path === path).length;

  // One browser: its own cookie jar, shared by every client (tab) that uses this fetch.
  api.browser = () => {
    const jar = { refresh: null };
    const fetch = async (url, init = {}) => {
      if (!url.startsWith(`${base}/`)) throw new TypeError(`unexpected URL ${url}`);
      const path = url.slice(base.length);
      const method = init.method || "GET";
      const headers = new Headers(init.headers);
      const body = typeof init.body === "string" ? JSON.parse(init.body) : null;
      const cookieMode = headers.get("x-token-transport") === "cookie";
      const withCookie = init.credentials === "include";
      requests.push({ method, path, headers, body, credentials: init.credentials, cookie: withCookie && jar.refresh });
      if (api.down) throw new TypeError("fetch failed");
      const answer = (status, data, extra = {}) =>
        new Response(data === undefined ? null : JSON.stringify(data), {
          status,
          headers: { "Content-Type": "application/json", ...extra },
        });
      const tokens = (grant, extra = {}) => {
        const data = { access_token: grant.access, token_type: "Bearer", expires_in: expiresIn, ...extra };
        if (cookieMode) {
          if (withCookie) jar.refresh = grant.refresh;
          return answer(200, data);
        }
        return answer(200, { ...data, refresh_token: grant.refresh });
      };

      if (method === "POST" && path === "/auth/login") {
        if (api.locked) return answer(429, { message: "Too many attempts" }, { "Retry-After": "30" });
        if (!body || typeof body.email !== "string") return answer(400, { message: "email is required", field: "email" });
        if (body.email !== USER.email || body.password !== PASSWORD || body.userType !== USER.type) {
          return answer(401, { message: "Invalid credentials" });
        }
        if (api.totpCode) {
          counter += 1;
          const mfaToken = `challenge-${counter}`;
          challenges.add(mfaToken);
          return answer(200, { mfa_required: true, challenge: "totp", mfa_token: mfaToken, expires_in: 300 });
        }
        return tokens(startSession(), { type: USER.type, user: USER });
      }
      if (method === "POST" && path === "/auth/login/mfa") {
        if (!challenges.has(body?.mfa_token) || body.code !== api.totpCode) {
          return answer(401, { message: "Invalid credentials" });
        }
        challenges.delete(body.mfa_token);
        return tokens(startSession(), { type: USER.type, user: USER });
      }
      if (method === "POST" && path === "/auth/refresh") {
        const presented = body?.refresh_token ?? (cookieMode && withCookie ? jar.refresh : null);
        if (refreshDelayMs) await new Promise((resolve) => setTimeout(resolve, refreshDelayMs));
        const sid = typeof presented === "string" ? presented.split(".")[0] : "";
        const session = sessions.get(sid);
        if (!session || session.revoked) return answer(401, { message: "Invalid refresh token" });
        if (presented !== session.refresh) {
          session.revoked = true; // a rotated token again: theft, the whole session ends
          return answer(401, { message: "Invalid refresh token" });
        }
        api.rotations += 1;
        counter += 1;
        session.refresh = `${sid}.r${counter}`;
        return tokens({ refresh: session.refresh, access: issue(sid) });
      }
      if (method === "POST" && path === "/auth/password") {
        const known = caller(headers);
        if (!known) return answer(401, { message: "Unauthorized" });
        if (body.current_password !== api.password) {
          return answer(400, { message: "current_password is incorrect", field: "current_password" });
        }
        api.password = body.new_password;
        for (const session of sessions.values()) session.revoked = true;
        return tokens(startSession(), { message: "Password changed" });
      }
      const known = caller(headers);
      if (!known) return answer(401, { message: "Unauthorized" });
      if (method === "POST" && path === "/auth/logout") {
        sessions.get(known.sid).revoked = true;
        if (cookieMode && withCookie) jar.refresh = null;
        return answer(200, { message: "Successfully logged out" });
      }
      if (method === "POST" && path === "/auth/logout-all") {
        for (const session of sessions.values()) session.revoked = true;
        if (cookieMode && withCookie) jar.refresh = null;
        return answer(200, { message: "Logged out of every session", sessions_revoked: sessions.size });
      }
      if (method === "GET" && path === "/auth/me") return answer(200, { ...USER, session_id: known.sid });
      if (path.startsWith("/cars")) return answer(200, { cars: [], method, echo: body });
      if (path === "/step-up-only") {
        const refusal = { message: "User is not authorized to access this resource" };
        return answer(403, { ...refusal, error: "insufficient_user_authentication", max_age: 900 });
      }
      if (path === "/admin-only") return answer(403, { message: "User is not authorized to access this resource" });
      if (path === "/broken") return answer(500, { message: "Internal server error" });
      return answer(404, { message: "Not found" });
    };
    fetch.jar = jar;
    return fetch;
  };
  return api;
}
