// Demo client for the JWT auth service: plain JavaScript, no build step.
// The access token is kept in this closure only (never in storage); the refresh token travels as an
// HttpOnly, Secure, SameSite=Strict `__Host-` cookie that this page can neither read nor send
// by itself: it asks for cookie mode with the X-Token-Transport header, which a cross-site form
// cannot send (the CSRF defence), and calls with credentials: "include".
"use strict";

(() => {
  const API = window.API_BASE;
  const EMAILS = { admin: "admin@dealership.example", staff: "staff@dealership.example" };
  const COOKIE_MODE = { "X-Token-Transport": "cookie" };

  let accessToken = null; // memory only
  let refreshing = null; // one refresh at a time, shared by concurrent 401s
  let refreshTimer = null;

  const $ = (selector) => document.querySelector(selector);

  function log(text) {
    const item = document.createElement("li");
    item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
    $("#log").prepend(item);
    while ($("#log").children.length > 60) $("#log").lastChild.remove();
  }

  function say(text, isError = false) {
    $("#message").textContent = text;
    $("#message").className = isError ? "message-error" : "";
  }

  // One HTTP call. `cookie` asks for cookie mode (login, refresh, logout under /auth).
  async function request(method, path, { body, auth = true, cookie = false } = {}) {
    const headers = { ...(cookie ? COOKIE_MODE : {}) };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
    let response;
    try {
      response = await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: cookie ? "include" : "omit",
        cache: "no-store",
      });
    } catch (error) {
      log(`${method} ${path} failed: ${error.message}`);
      return { status: 0, ok: false, data: { message: "The API cannot be reached" } };
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = { message: text }; }
    }
    log(`${method} ${path} -> ${response.status}`);
    return { status: response.status, ok: response.ok, data };
  }

  // The refresh token is in the cookie: no body, only the cookie-mode header.
  function refreshTokens() {
    if (!refreshing) {
      refreshing = request("POST", "/auth/refresh", { auth: false, cookie: true })
        .then((result) => {
          if (!result.ok) {
            accessToken = null;
            return false;
          }
          useAccessToken(result.data);
          log("access token renewed from the refresh cookie");
          return true;
        })
        .finally(() => { refreshing = null; });
    }
    return refreshing;
  }

  function useAccessToken(data) {
    accessToken = data.access_token;
    clearTimeout(refreshTimer);
    // Renew a minute before expiry; a 401 in between is handled the same way anyway.
    const seconds = Math.max(30, (data.expires_in || 900) - 60);
    refreshTimer = setTimeout(() => { refreshTokens(); }, seconds * 1000);
  }

  // An authenticated call that refreshes transparently once on 401.
  async function api(method, path, options = {}) {
    let result = await request(method, path, options);
    if (result.status === 401 && (await refreshTokens())) {
      result = await request(method, path, options);
    }
    if (result.status === 401) {
      signedOut("Your session has ended: please sign in again.");
    }
    return result;
  }

  function explain(result) {
    if (result.status === 403) return "Not allowed for your role (403 from the gateway).";
    if (result.status === 429) return "Too many attempts: try again later.";
    return (result.data && result.data.message) || `HTTP ${result.status}`;
  }

  // -- screens -----------------------------------------------------------------------------------

  function signedOut(reason = "") {
    accessToken = null;
    clearTimeout(refreshTimer);
    $("#app").hidden = true;
    $("#login").hidden = false;
    $("#login-error").textContent = reason;
    $("#cars tbody").replaceChildren();
    $("#sessions tbody").replaceChildren();
    $("#password").value = "";
  }

  async function signedIn() {
    const me = await api("GET", "/auth/me");
    if (!me.ok) return;
    $("#login").hidden = true;
    $("#app").hidden = false;
    $("#login-error").textContent = "";
    say("");
    $("#who").textContent = `Signed in as ${me.data.name} (${me.data.email}), type ${me.data.type}, role ${me.data.role}`;
    await Promise.all([loadCars(), loadSessions()]);
  }

  // -- login and logout --------------------------------------------------------------------------

  async function login(event) {
    event.preventDefault();
    const userType = $("#user-type").value;
    const result = await request("POST", "/auth/login", {
      auth: false,
      cookie: true,
      body: { email: $("#email").value.trim(), password: $("#password").value, userType },
    });
    $("#password").value = "";
    if (!result.ok) {
      $("#login-error").textContent = explain(result);
      return;
    }
    useAccessToken(result.data);
    await signedIn();
  }

  async function logout() {
    await api("POST", "/auth/logout", { cookie: true });
    signedOut("You are logged out.");
  }

  async function logoutAll() {
    const result = await api("POST", "/auth/logout-all", { cookie: true });
    if (result.ok) signedOut("You are logged out on every device.");
    else say(explain(result), true);
  }

  function breakAccessToken() {
    if (!accessToken) return;
    const [header, payload, signature] = accessToken.split(".");
    const flipped = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
    accessToken = `${header}.${payload}.${flipped}`;
    log("access token replaced by a tampered copy: the next call gets 401, then a transparent refresh");
  }

  // -- cars --------------------------------------------------------------------------------------

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  async function loadCars() {
    const result = await api("GET", "/cars");
    if (!result.ok) {
      if (result.status !== 401) say(explain(result), true);
      return;
    }
    const rows = result.data.cars.map((car) => {
      const row = document.createElement("tr");
      row.dataset.id = car.id;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "delete-car";
      remove.textContent = "Delete";
      remove.addEventListener("click", () => deleteCar(car));
      const actions = document.createElement("td");
      actions.append(remove);
      row.append(cell(car.make), cell(car.model), cell(String(car.year)),
        cell(Number(car.price).toLocaleString(undefined, { style: "currency", currency: "USD" })),
        cell(car.created_by), actions);
      return row;
    });
    $("#cars tbody").replaceChildren(...rows);
  }

  async function addCar(event) {
    event.preventDefault();
    const car = {
      make: $("#car-make").value.trim(),
      model: $("#car-model").value.trim(),
      year: Number.parseInt($("#car-year").value, 10),
      price: Number($("#car-price").value),
    };
    const result = await api("POST", "/cars", { body: car });
    if (result.status === 201) {
      say(`Added ${result.data.make} ${result.data.model}.`);
      $("#car-form").reset();
      await loadCars();
    } else if (result.status !== 401) {
      say(explain(result), true);
    }
  }

  async function deleteCar(car) {
    const result = await api("DELETE", `/cars/${encodeURIComponent(car.id)}`);
    if (result.ok) {
      say(`Deleted ${car.make} ${car.model}.`);
      await loadCars();
    } else if (result.status !== 401) {
      say(explain(result), true);
    }
  }

  // -- sessions ----------------------------------------------------------------------------------

  function when(value) {
    if (!value) return "";
    const date = typeof value === "number" ? new Date(value > 1e12 ? value : value * 1000) : new Date(value);
    return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
  }

  async function loadSessions() {
    const result = await api("GET", "/auth/sessions");
    if (!result.ok) {
      if (result.status !== 401) {
        const row = document.createElement("tr");
        row.append(cell(`Sessions are not available: ${explain(result)}`));
        $("#sessions tbody").replaceChildren(row);
      }
      return;
    }
    const rows = result.data.sessions.map((session) => {
      const row = document.createElement("tr");
      row.dataset.id = session.id;
      if (session.current) row.className = "current";
      const device = [session.browser, session.os, session.device].filter(Boolean).join(" on ")
        || session.user_agent || "unknown device";
      const revoke = document.createElement("button");
      revoke.type = "button";
      revoke.className = "revoke-session";
      revoke.textContent = session.current ? "Revoke (this one)" : "Revoke";
      revoke.addEventListener("click", () => revokeSession(session));
      const actions = document.createElement("td");
      actions.append(revoke);
      row.append(cell(device + (session.current ? " (this browser)" : "")), cell(session.source_ip || ""),
        cell(when(session.created_at)), cell(when(session.last_used_at)), actions);
      return row;
    });
    $("#sessions tbody").replaceChildren(...rows);
  }

  async function revokeSession(session) {
    const result = await api("DELETE", `/auth/sessions/${encodeURIComponent(session.id)}`);
    if (!result.ok) {
      if (result.status !== 401) say(explain(result), true);
      return;
    }
    if (session.current) {
      signedOut("This session was revoked.");
    } else {
      say("Session revoked.");
      await loadSessions();
    }
  }

  // -- start -------------------------------------------------------------------------------------

  function start() {
    $("#api-base").textContent = API;
    $("#email").value = EMAILS[$("#user-type").value];
    $("#user-type").addEventListener("change", () => { $("#email").value = EMAILS[$("#user-type").value]; });
    $("#login-form").addEventListener("submit", login);
    $("#logout").addEventListener("click", logout);
    $("#logout-all").addEventListener("click", logoutAll);
    $("#break-token").addEventListener("click", breakAccessToken);
    $("#reload-cars").addEventListener("click", loadCars);
    $("#reload-sessions").addEventListener("click", loadSessions);
    $("#car-form").addEventListener("submit", addCar);
    // A reload loses the in-memory access token: the refresh cookie (if any) brings the session back.
    refreshTokens().then((ok) => (ok ? signedIn() : signedOut()));
  }

  start();
})();
