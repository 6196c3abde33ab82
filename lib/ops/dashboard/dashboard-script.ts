/**
 * The dashboard's script, inlined into the page by `dashboard-page.ts`: plain browser JavaScript
 * (no build step), kept as a string so that nothing transforms it on its way to the browser.
 *
 * It reads the base path from `<body data-base-path>`, loads `GET {base}/circuitbreakers`, then
 * follows `{base}/streamcircuitbreakerevents`: `summary` events feed the numbers and the sparkline
 * (one point per summary, the last 120 kept), `transition` events move a card's state at once. The
 * buttons `POST {base}/circuitbreakers/:name` with `{ updateState }`, same-origin with credentials,
 * so the application's guards decide. Breaker names only ever reach the DOM as text or attribute
 * values, never as markup.
 */
export const DASHBOARD_SCRIPT = `
(function () {
  'use strict';
  var POINTS = 120; // the card's <svg viewBox="0 0 119 36"> has one x unit per point
  var STATES = ['CLOSED', 'OPEN', 'HALF_OPEN', 'FORCED_OPEN', 'DISABLED'];
  var MANUAL = { RESET: ['CLOSED', 'reset'], FORCED_OPEN_STATE: ['FORCED_OPEN', 'isolate'], DISABLED_STATE: ['DISABLED', 'disable'] };
  var base = document.body.getAttribute('data-base-path');
  var grid = document.getElementById('cards');
  var template = document.getElementById('card');
  var empty = document.getElementById('empty');
  var connection = document.getElementById('connection');
  var announcer = document.getElementById('announcer');
  var cards = new Map();
  var ids = 0;
  var source = null;
  var retries = 0;
  var retryTimer = 0;

  function url(rest) { return base + '/' + rest; }

  function percent(value) {
    return typeof value === 'number' && value >= 0 ? Math.round(value * 10) / 10 + ' %' : '\\u2014';
  }

  function count(value) { return typeof value === 'number' && isFinite(value) ? value : 0; }

  function perSecond(value) { return Math.round(count(value) * 10) / 10 + ' /s'; }

  function parse(event) {
    try { return JSON.parse(event.data); } catch (err) { return null; }
  }

  function card(name) {
    var found = cards.get(name);
    if (found) return found;
    var article = template.content.firstElementChild.cloneNode(true);
    var field = function (key) { return article.querySelector('[data-field="' + key + '"]'); };
    var id = 'breaker-' + ++ids;
    var c = { name: name, article: article, calls: [], refusals: [], state: field('state'),
      failureRate: field('failure-rate'), callsPerSecond: field('calls-per-second'), refused: field('refused'),
      transition: field('last-transition'), line: article.querySelector('polyline'), message: field('message'),
      busy: Array.prototype.slice.call(article.querySelectorAll('button')) };
    article.setAttribute('data-breaker', name);
    article.setAttribute('aria-labelledby', id);
    article.querySelector('h2').id = id;
    field('name').textContent = name;
    field('sparkline').setAttribute('aria-label', 'Calls per second of ' + name + ' over the last two minutes');
    article.querySelector('[role=group]').setAttribute('aria-label', 'Change the state of ' + name);
    c.busy.forEach(function (button) {
      var action = button.getAttribute('data-action');
      button.setAttribute('aria-label', button.textContent + ' ' + name);
      button.addEventListener('click', function () { act(c, action); });
    });
    var next = null;
    cards.forEach(function (other) { if (other.name > name && (!next || other.name < next.name)) next = other; });
    grid.insertBefore(article, next ? next.article : null);
    cards.set(name, c);
    empty.hidden = true;
    return c;
  }

  function setState(c, state) {
    if (STATES.indexOf(state) < 0) return;
    c.article.setAttribute('data-state', state);
    c.state.textContent = state;
  }

  function showTransition(c, t) {
    if (!t) { c.transition.textContent = 'none'; return; }
    var at = new Date(t.time);
    // Summaries do not say who asked: the transition event did, for the transition of that time.
    var reason = (t.reason || '') + (c.by && c.by.time === t.time ? ' by ' + c.by.who : '');
    c.transition.textContent = t.from + ' \\u2192 ' + t.to + (reason ? ' (' + reason.trim() + ')' : '') +
      (isNaN(at.getTime()) ? '' : ', ' + at.toLocaleTimeString());
    c.transition.title = String(t.time);
  }

  function apply(name, details) {
    var c = card(name);
    setState(c, details.state);
    if ('failureRate' in details) c.failureRate.textContent = percent(details.failureRate);
    if ('lastTransition' in details) showTransition(c, details.lastTransition);
    return c;
  }

  function push(points, value) {
    points.push(count(value));
    if (points.length > POINTS) points.shift();
  }

  function draw(c) {
    var max = Math.max.apply(null, c.calls.concat([1]));
    var offset = POINTS - c.calls.length;
    c.line.setAttribute('points', c.calls.map(function (v, i) {
      return offset + i + ',' + Math.round((35 - (v / max) * 33) * 10) / 10;
    }).join(' '));
  }

  function onSummary(event) {
    var data = parse(event);
    if (!data || !data.circuitBreakers) return;
    var names = Object.keys(data.circuitBreakers);
    names.forEach(function (name) {
      var summary = data.circuitBreakers[name];
      var c = apply(name, summary);
      push(c.calls, summary.callsPerSecond);
      push(c.refusals, summary.notPermittedCalls);
      c.callsPerSecond.textContent = perSecond(summary.callsPerSecond);
      c.refused.textContent = String(c.refusals.reduce(function (a, b) { return a + b; }, 0));
      draw(c);
    });
    cards.forEach(function (c, name) {
      if (names.indexOf(name) < 0) { c.article.remove(); cards.delete(name); }
    });
    empty.hidden = cards.size > 0;
  }

  function onTransition(event) {
    var data = parse(event);
    // A family's key has no card of its own (a family may hold thousands).
    if (!data || typeof data.circuitBreakerName !== 'string' || data.family) return;
    var parts = typeof data.stateTransition === 'string' ? data.stateTransition.split('_TO_') : [];
    var manual = MANUAL[data.type];
    var to = parts[1] || (manual && manual[0]);
    if (STATES.indexOf(to) < 0) return;
    var c = card(data.circuitBreakerName);
    setState(c, to);
    // A request for the state the breaker is already in comes without stateTransition: no change.
    if (!parts[1]) return;
    if (data.requestedBy) c.by = { time: data.creationTime, who: data.requestedBy };
    showTransition(c, { from: parts[0], to: to, reason: data.reason || (manual && manual[1]), time: data.creationTime });
    announcer.textContent = data.circuitBreakerName + ': ' + parts[0] + ' to ' + to;
  }

  function act(c, action) {
    c.busy.forEach(function (b) { b.disabled = true; });
    c.message.removeAttribute('data-error');
    c.message.textContent = '';
    fetch(url('circuitbreakers/' + encodeURIComponent(c.name)), {
      method: 'POST', credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ updateState: action })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) throw new Error(body.message ? String(body.message) : response.status + ' ' + response.statusText);
        return body;
      });
    }).then(function (body) {
      setState(c, body.currentState);
      c.message.textContent = body.message || '';
    }).catch(function (err) {
      c.message.setAttribute('data-error', '');
      c.message.textContent = action + ' failed: ' + err.message;
    }).then(function () {
      c.busy.forEach(function (b) { b.disabled = false; });
    });
  }

  function status(state, text) {
    connection.setAttribute('data-connection', state);
    connection.textContent = text;
  }

  function load() {
    return fetch(url('circuitbreakers'), { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status + ' ' + response.statusText);
        return response.json();
      }).then(function (body) {
        var list = body.circuitBreakers || {};
        Object.keys(list).forEach(function (name) { apply(name, list[name]); });
        empty.textContent = 'No circuit breakers yet.';
        empty.hidden = cards.size > 0;
      }).catch(function (err) {
        empty.textContent = 'Could not load the circuit breakers: ' + err.message;
        empty.hidden = false;
      });
  }

  function reconnect() {
    if (source) source.close();
    source = null;
    status('reconnecting', 'stream lost, reconnecting');
    var delay = Math.min(30000, 1000 * Math.pow(2, retries++));
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
  }

  function connect() {
    load();
    var stream = (source = new EventSource(url('streamcircuitbreakerevents')));
    stream.addEventListener('summary', onSummary);
    stream.addEventListener('transition', onTransition);
    stream.onopen = function () { retries = 0; status('live', 'live'); };
    stream.onerror = function () {
      // CONNECTING: the browser retries by itself; CLOSED (an error answer): we retry, backing off.
      if (stream.readyState === EventSource.CLOSED) reconnect();
      else status('reconnecting', 'stream lost, reconnecting');
    };
  }

  connect();
})();
`;
