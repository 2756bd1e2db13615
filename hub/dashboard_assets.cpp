// The live page's static files: one page with a sign-in form, its style
// and its script. The script renders every hub-provided string with
// textContent (never as markup) and keeps the token in memory only.
#include "hub/dashboard.hpp"

namespace chainlab::hub {

const char *const kDashboardPage = R"html(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chainlab hub: live</title>
<link rel="stylesheet" href="/dashboard/app.css">
</head><body>
<header><h1>chainlab hub <span id="hub-name"></span></h1><span id="status">signed out</span></header>
<form id="signin" method="post" autocomplete="off">
  <label for="token">Bearer token of this hub</label>
  <input id="token" name="token" type="password" autocomplete="off" required>
  <button type="submit">Sign in</button>
  <p id="signin-error" role="alert"></p>
  <p class="hint">The token stays in this page's memory: it travels in an Authorization
  header, never in a URL, and is forgotten when the page closes.</p>
</form>
<main id="live" hidden>
  <section><h2>Trust tree</h2>
    <p class="hint">Verified CAs, the intermediates seen in device chains, and the devices under each.</p>
    <div id="tree"></div>
    <p id="devices-shown" class="hint" hidden></p></section>
  <section><h2>Refusals by reason</h2>
    <table id="refusals"><thead><tr><th>reason</th><th>count</th></tr></thead><tbody></tbody></table>
    <p id="no-refusals">None yet.</p></section>
  <section><h2>Live events</h2><ol id="events" reversed></ol></section>
</main>
<script src="/dashboard/app.js"></script>
</body></html>
)html";

const char *const kDashboardStyle = R"css(
[hidden]{display:none !important}
body{font-family:system-ui,sans-serif;margin:1em auto;max-width:80em;padding:0 1em;color:#222}
header{display:flex;justify-content:space-between;align-items:baseline;border-bottom:1px solid #ccc}
#status{color:#555}form{margin:2em 0;display:grid;gap:.5em;max-width:30em}
#signin-error{color:#b3261e}.hint{color:#666;font-size:.9em}
main{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}main section:last-child{grid-column:1/3}
ul.tree{list-style:none;padding-left:1.4em;border-left:2px solid #ccd}#tree>ul.tree{border-left:none;padding-left:0}
.node{display:inline-block;border:1px solid #bbc;border-radius:6px;padding:.2em .6em;margin:.2em 0;background:#f8f9ff}
.device .node{background:#f4fff4}.status{font-size:.85em;margin-left:.5em;color:#555}
.bad{color:#b3261e}.good{color:#176f2c}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left}
#events{font-family:monospace;font-size:.85em;max-height:30em;overflow:auto}
#events li.refusal{color:#b3261e}#events .payload{color:#334}
)css";

const char *const kDashboardScript = R"js('use strict';
(function () {
  var hub = decodeURIComponent(location.pathname.split('/')[2] || '');
  var base = '/hubs/' + encodeURIComponent(hub);
  var token = null, cursor = '', refreshing = null, again = false;
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }
  function status(text) { $('status').textContent = text; }
  $('hub-name').textContent = hub;

  function api(path, headers) {
    var all = {Authorization: 'Bearer ' + token};
    for (var key in headers || {}) all[key] = headers[key];
    return fetch(base + path, {headers: all, cache: 'no-store', credentials: 'omit'})
      .then(function (response) {
        if (response.status === 401) throw new Error('unauthorized');
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response;
      });
  }

  // The tree: each device's chain, root first, under the CA it ends at.
  // Intermediates are told apart by key as well as name: a rogue CA may
  // copy a name, never a key.
  function renderTree(state) {
    var rules = state.disabledIntermediates || [];
    function disabled(subject, key) {
      return rules.some(function (rule) { return rule.subject === subject && (!rule.key || rule.key === key); });
    }
    var roots = new Map();
    function node(map, id, subject, kind, statusText, bad) {
      if (!map.has(id)) map.set(id, {subject: subject, kind: kind, status: statusText,
                                     bad: bad, children: new Map(), devices: []});
      return map.get(id);
    }
    (state.cas || []).forEach(function (ca) {
      var text = ca.status + (ca.enabled ? '' : ', disabled') + ' (as "' + ca.name + '")';
      node(roots, ca.subject, ca.subject, 'ca', text, ca.status !== 'Verified' || !ca.enabled);
    });
    var subjectOf = new Map((state.cas || []).map(function (ca) { return [ca.name, ca.subject]; }));
    (state.devices || []).forEach(function (device) {
      var chain = String(device.chain || '').split(' <- ').reverse();
      var keys = String(device.chainKeys || '').split(' <- ').reverse();
      var verifiedAt = chain.indexOf(subjectOf.get(device.ca)); // a bought root sits above it
      if (verifiedAt > 0) {
        chain = chain.slice(verifiedAt);
        keys = keys.slice(verifiedAt);
      }
      var root = chain[0] || '(no chain)';
      var at = node(roots, root, root, 'ca', 'not registered', true);
      chain.slice(1, -1).forEach(function (subject, i) {
        var key = keys[i + 1] || '', off = disabled(subject, key);
        at = node(at.children, subject + '\n' + key, subject, 'intermediate', off ? 'disabled' : 'seen', off);
      });
      at.devices.push(device);
    });
    var list = el('ul', undefined, 'tree');
    roots.forEach(function (root) { list.appendChild(renderNode(root)); });
    $('tree').replaceChildren(list);
    var shown = (state.devices || []).length, all = Number(state.deviceCount) || shown;
    $('devices-shown').hidden = all <= shown;
    $('devices-shown').textContent = 'The tree shows the first ' + shown + ' of ' + all +
                                     ' devices, by id; the devices API lists them all.';
  }
  function renderNode(entry) {
    var item = el('li', undefined, entry.kind);
    item.dataset.subject = entry.subject;
    var box = el('span', entry.subject, 'node');
    box.appendChild(el('span', entry.kind + ': ' + entry.status, 'status ' + (entry.bad ? 'bad' : 'good')));
    item.appendChild(box);
    var children = el('ul', undefined, 'tree');
    entry.children.forEach(function (child) { children.appendChild(renderNode(child)); });
    entry.devices.forEach(function (device) {
      var leaf = el('li', undefined, 'device');
      leaf.dataset.device = device.deviceId;
      var label = el('span', device.deviceId, 'node');
      label.appendChild(el('span', device.status + (device.lastConnected ? ', last connected ' +
                           device.lastConnected : ''), 'status ' + (device.status === 'enabled' ? 'good' : 'bad')));
      leaf.appendChild(label);
      children.appendChild(leaf);
    });
    if (children.childElementCount) item.appendChild(children);
    return item;
  }
  function renderCounters(counts) {
    var body = $('refusals').tBodies[0];
    var rows = Object.keys(counts || {}).sort().map(function (reason) {
      var row = el('tr');
      row.dataset.reason = reason;
      row.appendChild(el('td', reason));
      row.appendChild(el('td', counts[reason], 'count'));
      return row;
    });
    body.replaceChildren.apply(body, rows);
    $('no-refusals').hidden = rows.length > 0;
  }

  // refresh reads the whole state; asked again while reading, it reads
  // once more afterwards, so the last event is always drawn.
  function refresh() {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = api('/dashboard/state').then(function (r) { return r.json(); }).then(function (state) {
      renderTree(state);
      renderCounters(state.refusalsByReason);
      if (!cursor) cursor = state.cursor;
    }).finally(function () {
      refreshing = null;
      if (again) {
        again = false;
        refresh().catch(function () {});
      }
    });
    return refreshing;
  }

  // Server-sent events, read with fetch so that the token goes in a header
  // (EventSource cannot send one). When the stream ends, the page asks again
  // from the last id it saw, as EventSource would.
  function parseEvent(block) {
    var event = {type: 'message', data: '', id: null};
    block.split('\n').forEach(function (line) {
      var colon = line.indexOf(':');
      if (colon <= 0) return; // a comment, or nothing
      var field = line.slice(0, colon), value = line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event.type = value;
      else if (field === 'data') event.data += value;
      else if (field === 'id') event.id = value;
    });
    return event;
  }
  function handle(event) {
    if (event.id) cursor = event.id;
    if (event.type === 'hub-event' || event.type === 'telemetry') show(event);
    if (event.type === 'hub-event') refresh().catch(function () {}); // the tree and counters as the hub has them
  }
  function show(event) {
    var data = JSON.parse(event.data), item;
    if (event.type === 'telemetry') {
      item = el('li', data.time + '  telemetry from ' + data.device + ' on ' + data.topic + ': ');
      item.appendChild(el('span', data.payload, 'payload'));
    } else {
      item = el('li', data.time + '  ' + data.kind + (data.reason ? ' (' + data.reason + ')' : '') +
                '  ' + data.subject + '  ' + data.detail, data.reason ? 'refusal' : '');
    }
    var list = $('events');
    list.insertBefore(item, list.firstChild);
    while (list.childElementCount > 300) list.removeChild(list.lastChild);
  }
  function listen() {
    if (!token) return;
    api('/dashboard/events', {'Last-Event-ID': cursor}).then(function (response) {
      var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = '';
      status('live: signed in to hub ' + hub);
      function pump() {
        return reader.read().then(function (part) {
          if (part.done) return;
          buffer += decoder.decode(part.value, {stream: true});
          for (var end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            handle(parseEvent(buffer.slice(0, end)));
            buffer = buffer.slice(end + 2);
          }
          return pump();
        });
      }
      return pump();
    }).then(listen, function (error) {
      status('reconnecting (' + error.message + ')');
      setTimeout(listen, 2000);
    });
  }

  $('signin').addEventListener('submit', function (event) {
    event.preventDefault();
    token = $('token').value;
    $('token').value = '';
    refresh().then(function () {
      $('signin').hidden = true;
      $('live').hidden = false;
      status('live: signed in to hub ' + hub);
      listen();
    }, function (error) {
      token = null;
      $('signin-error').textContent = error.message === 'unauthorized'
        ? 'That token is not valid for hub ' + hub + '.' : 'The hub did not answer: ' + error.message;
    });
  });
})();
)js";

} // namespace chainlab::hub
