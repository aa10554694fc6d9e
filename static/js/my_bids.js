/* "My bids" (templates/auctions/my_bids.html) follows its open auctions without a reload.
   Hand-written, no library. Each open row ([data-watch], at most max_watched of them) opens the
   lot's own socket, /ws/lots/<id>/ (shared/API.md, "Live updates"), as a watcher:
   - a rival's `bid` frame turns the row to "Outbid" (our alias number is on the row, as the live
     panel knows it), ours to "Leading", and updates the price, at once;
   - our own bids (a proxy answer changes our highest bid and count), `closed` and `status`
     frames fetch this page again and swap in the server's row and summary.
   Frames are applied in seq order like the live panel: a gap asks for a replay (resync), a
   dropped socket reconnects with backoff. For tests: each row's data-seq is the last applied. */
(function () {
  "use strict";

  var BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];

  function fen(text) {
    if (text === null || text === undefined || text === "") return null;
    var match = String(text).trim().match(/^(\d+)(?:\.(\d{0,2}))?$/);
    if (!match) return null;
    return parseInt(match[1], 10) * 100 + parseInt(((match[2] || "") + "00").slice(0, 2), 10);
  }

  function yuan(value) {
    var cents = value % 100;
    var whole = String(Math.floor(value / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return "¥" + whole + "." + (cents < 10 ? "0" : "") + cents;
  }

  function fill(template, params) {
    return String(template).replace(/%\((\w+)\)s/g, function (all, name) {
      return params[name] === undefined ? all : params[name];
    });
  }

  // "Bidder 3" / "竞买人 3" → 3 (as live.js).
  function aliasNumber(alias) {
    var match = String(alias || "").match(/(\d+)\s*$/);
    return match ? parseInt(match[1], 10) : null;
  }

  var source = document.getElementById("my-bids-messages");
  if (!source || !window.WebSocket) return;
  var msg = JSON.parse(source.textContent);
  var refetchTimer = null;
  var watchers = {};

  function rowFor(lotId) {
    return document.querySelector('li.my-bid[data-lot="' + lotId + '"]');
  }

  function setOutcome(row, outcome) {
    if (row.dataset.outcome === outcome) return;
    row.dataset.outcome = outcome;
    var badge = row.querySelector("[data-role=outcome]");
    if (badge) {
      badge.className = "badge outcome outcome-" + outcome;
      badge.textContent = msg.outcomes[outcome] || outcome;
    }
    var action = row.querySelector("[data-role=action]");
    if (action) {
      action.textContent = outcome === "outbid" ? msg.bid_again : msg.watch;
      action.classList.toggle("button-secondary", outcome === "leading");
    }
    var max = row.querySelector("[data-role=my-max]");
    var ceiling = fen(row.dataset.myMax);
    if (max && ceiling !== null) {
      max.textContent = fill(outcome === "outbid" ? msg.proxy_exceeded : msg.proxy_up_to, { amount: yuan(ceiling) });
      max.classList.toggle("is-exceeded", outcome === "outbid");
    }
    row.classList.remove("is-new");
    void row.offsetWidth; // restart the highlight
    row.classList.add("is-new");
    recount();
  }

  function setPrice(row, price) {
    var el = row.querySelector("[data-role=price]");
    var amount = fen(price);
    if (el && amount !== null) el.textContent = yuan(amount) + "/" + row.dataset.unit;
  }

  // The summary counts the rows on this page, as the server does.
  function recount() {
    ["leading", "outbid"].forEach(function (outcome) {
      var badge = document.querySelector('.my-bids-summary [data-count="' + outcome + '"]');
      if (!badge) return;
      var n = document.querySelectorAll('li.my-bid[data-outcome="' + outcome + '"]').length;
      badge.hidden = n === 0;
      badge.textContent = fill(n === 1 ? msg[outcome + "_one"] : msg[outcome + "_many"], { counter: n });
    });
  }

  // The server's own rows and summary for what frames do not say (our count, who won).
  function refetchSoon() {
    if (refetchTimer) return;
    refetchTimer = window.setTimeout(function () {
      refetchTimer = null;
      window
        .fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          document.querySelectorAll("li.my-bid").forEach(function (row) {
            var fresh = doc.querySelector('li.my-bid[data-lot="' + row.dataset.lot + '"]');
            if (!fresh || fresh.outerHTML === row.outerHTML) return;
            var seq = row.dataset.seq;
            fresh = document.importNode(fresh, true);
            if (seq) fresh.dataset.seq = seq;
            row.replaceWith(fresh);
            var watcher = watchers[fresh.dataset.lot];
            if (watcher && !fresh.hasAttribute("data-watch")) watcher.stop();
          });
          var summary = doc.querySelector(".my-bids-summary");
          var mine = document.querySelector(".my-bids-summary");
          if (summary && mine) mine.replaceWith(document.importNode(summary, true));
        })
        .catch(function () {});
    }, 300);
  }

  function Watcher(row) {
    this.lot = row.dataset.lot;
    this.path = row.dataset.wsPath;
    this.myNumber = row.dataset.myNumber ? parseInt(row.dataset.myNumber, 10) : null;
    this.english = row.dataset.format === "english";
    this.lastSeq = 0;
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
    this.connect();
  }

  Watcher.prototype.connect = function () {
    var self = this;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws;
    try {
      ws = new WebSocket(scheme + window.location.host + this.path);
    } catch (e) {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = function () {
      if (self.lastSeq > 0) self.send({ type: "resync", after_seq: self.lastSeq });
    };
    ws.onmessage = function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      self.onFrame(frame);
    };
    ws.onclose = function (event) {
      if (self.ws !== ws) return;
      self.ws = null;
      if (event.code !== 4404) self.retry();
    };
  };

  Watcher.prototype.retry = function () {
    var self = this;
    if (this.stopped) return;
    var delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    window.setTimeout(function () {
      if (!self.stopped) self.connect();
    }, Math.round(delay * (0.8 + Math.random() * 0.4)));
  };

  Watcher.prototype.stop = function () {
    this.stopped = true;
    if (this.ws) this.ws.close();
    this.ws = null;
  };

  Watcher.prototype.send = function (message) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(message));
  };

  Watcher.prototype.onFrame = function (f) {
    var row = rowFor(this.lot);
    if (!row || !f || typeof f.seq !== "number") return;
    if (f.type === "snapshot") {
      this.attempt = 0;
      this.lastSeq = f.seq;
      row.dataset.seq = String(f.seq);
      if (f.status !== row.dataset.status) {
        refetchSoon();
        return;
      }
      if (this.english && f.bids && f.bids.length) this.standing(row, f.bids[0].bidder, f.current_price);
      return;
    }
    if (f.seq <= this.lastSeq) return;
    if (f.seq > this.lastSeq + 1) {
      this.send({ type: "resync", after_seq: this.lastSeq });
      return;
    }
    this.lastSeq = f.seq;
    row.dataset.seq = String(f.seq);
    if (f.type === "bid") {
      if (this.english) this.standing(row, f.bidder, f.current_price);
      if (this.myNumber !== null && aliasNumber(f.bidder) === this.myNumber) refetchSoon(); // our count, our top
    } else if (f.type === "closed" || (f.type === "status" && f.status && f.status !== row.dataset.status)) {
      refetchSoon(); // won or lost, and the row moves on
    }
  };

  Watcher.prototype.standing = function (row, bidder, price) {
    if (price !== null && price !== undefined) setPrice(row, price);
    if (this.myNumber === null) return;
    setOutcome(row, aliasNumber(bidder) === this.myNumber ? "leading" : "outbid");
  };

  function start() {
    var rows = document.querySelectorAll("li.my-bid[data-watch]");
    Array.prototype.slice.call(rows, 0, msg.max_watched).forEach(function (row) {
      watchers[row.dataset.lot] = new Watcher(row);
    });
    var note = document.querySelector("[data-testid=my-bids-live]");
    if (note && rows.length) note.hidden = false;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
