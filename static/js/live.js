/* The live bidding panel (templates/auctions/_live_panel.html) over WebSocket /ws/lots/<id>/.
   Hand-written, no library. The wire format is shared/API.md, "Live updates".

   The client keeps the last event number it applied (lastSeq): a frame at or below it is a
   duplicate and is dropped; a frame beyond lastSeq + 1 means something was missed, so it asks
   the server to replay with {"type": "resync", "after_seq": lastSeq}. A snapshot replaces the
   whole state. After a network drop it reconnects with backoff and resyncs.

   For tests: window.__lotEvents lists the lot frames applied, in order (snapshot, bid, closed,
   status); window.__lotReplies the bid_result and error frames; the panel's data-state is one
   of connecting, live, leading, outbid, closed, reconnecting, and its data-conn one of
   connecting, connected, reconnecting (the socket alone: "connected" once a snapshot came).
   window.__lotQuietResyncMs, set before this script loads, shortens the quiet-lot resync
   (QUIET_RESYNC_MS).

   The lot's status badges elsewhere on the page ([data-lot-status="<id>"], the header's pill)
   follow the frames too. */
(function () {
  "use strict";

  var CLOSED = ["awarded", "unsold", "withdrawn"];
  var TIME_ZONE = "Asia/Shanghai"; // the cooperative trades on Beijing time, as the server renders
  var BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
  var POLL_MS = 1500; // resync cadence while "closing…" / "opening…"
  // A quiet open lot is asked for what it has after lastSeq every ~20 s: a broadcast can be lost
  // (the channel layer delivers at most once), and with no later event to show the gap, the
  // page would keep the old price. Jittered per page, so a thousand watchers spread their asks.
  var QUIET_RESYNC_MS = window.__lotQuietResyncMs || 20000;
  var BID_TIMEOUT_MS = 10000;
  var HISTORY_MAX = 50;
  var HISTORY_SHOWN = 10; // rows shown before "show all": the list flows with the page

  window.__lotEvents = window.__lotEvents || [];
  window.__lotReplies = window.__lotReplies || [];

  // --- Money in integer fen: no floating-point surprises on the bid grid ------------------

  function fen(text) {
    if (text === null || text === undefined || text === "") return null;
    var match = String(text).trim().match(/^(\d+)(?:\.(\d{0,2}))?$/);
    if (!match) return null;
    return parseInt(match[1], 10) * 100 + parseInt(((match[2] || "") + "00").slice(0, 2), 10);
  }

  function plain(value) {
    var cents = value % 100;
    return Math.floor(value / 100) + "." + (cents < 10 ? "0" : "") + cents;
  }

  function yuan(value) {
    if (value === null || value === undefined) return "—";
    var text = plain(value);
    var whole = text.slice(0, -3).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return "¥" + whole + text.slice(-3);
  }

  function fill(template, params) {
    return String(template).replace(/%\((\w+)\)s/g, function (all, name) {
      return params[name] === undefined ? all : params[name];
    });
  }

  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function clockTime(ms) {
    try {
      return new Intl.DateTimeFormat("en-GB", {
        timeZone: TIME_ZONE,
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        hour12: false,
      }).format(new Date(ms));
    } catch (e) {
      var d = new Date(ms);
      return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
    }
  }

  // "Bidder 3" / "竞买人 3" → 3: frames name bidders in the server's language, the page in its own.
  // "11-27 13:02" on Beijing time, as the server writes a start time.
  function dayTime(ms) {
    try {
      var parts = {};
      new Intl.DateTimeFormat("en-GB", {
        timeZone: TIME_ZONE,
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        hour12: false,
      })
        .formatToParts(new Date(ms))
        .forEach(function (part) {
          parts[part.type] = part.value;
        });
      return parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute;
    } catch (e) {
      var d = new Date(ms);
      return two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
    }
  }

  function aliasNumber(alias) {
    var match = String(alias || "").match(/(\d+)\s*$/);
    return match ? parseInt(match[1], 10) : null;
  }

  function parseTime(text) {
    var ms = Date.parse(text);
    return isNaN(ms) ? null : ms;
  }

  // --- One panel ----------------------------------------------------------------------------

  function Panel(root) {
    var data = root.dataset;
    this.root = root;
    this.msg = JSON.parse(document.getElementById(data.messagesId).textContent);
    this.ladder = JSON.parse(document.getElementById(data.ladderId).textContent).map(function (row) {
      return [row[0] === null ? null : fen(row[0]), fen(row[1])];
    });
    this.fixedStep = fen(data.increment);
    this.start = fen(data.startPrice);
    this.unit = data.unit;
    this.quantity = parseFloat(data.quantity);
    this.hasReserve = data.hasReserve === "1";
    this.myNumber = data.myNumber ? parseInt(data.myNumber, 10) : null;
    this.ownTop = fen(data.ownTop);
    this.myMax = fen(data.myMax);
    this.s = {
      status: data.status,
      format: data.format,
      price: fen(data.currentPrice),
      finalPrice: fen(data.finalPrice),
      bidCount: parseInt(data.bidCount || "0", 10),
      startsAt: parseTime(data.startsAt),
      endsAt: parseTime(data.endsAt),
      reserveMet: data.reserveMet === "" ? null : data.reserveMet === "1",
      minNext: fen(data.minNext),
      winner: data.winner || null,
      bids: [],
      lastSeq: 0,
    };
    this.offset = 0; // server clock − client clock, from the snapshot's server_time
    this.reason = data.reason || "";
    this.ws = null;
    this.connected = false;
    this.synced = false; // a snapshot came on this connection: the page is up to date
    this.hadConnection = false;
    this.attempt = 0;
    this.reconnectTimer = null;
    this.gone = false;
    this.lastResync = 0;
    this.lastFrameAt = Date.now();
    this.quietMs = Math.round(QUIET_RESYNC_MS * (0.8 + Math.random() * 0.4));
    this.pending = null; // the bid in flight: {amount, max, timer}
    this.pendingSeq = null; // our last accepted bid's seq, to learn our alias from its frame
    // From bid_result while our alias is not known yet; at first, the server's word at page load.
    this.resultStanding = data.standing === "leading" || data.standing === "outbid" ? data.standing : null;
    this.historyOpen = false;
    this.standing = undefined; // not computed yet: the first render highlights nothing
    this.userEdited = false;
    this.reserveTimer = null;
    this.flashTimer = null;

    this.el = {
      conn: root.querySelector("[data-role=conn-text]"),
      priceLabel: root.querySelector("[data-role=price-label]"),
      price: root.querySelector("[data-testid=current-price]"),
      count: root.querySelector("[data-testid=live-bid-count]"),
      reserve: root.querySelector("[data-testid=reserve-badge]"),
      clockLabel: root.querySelector("[data-role=clock-label]"),
      clockValue: root.querySelector("[data-role=clock-value]"),
      clock: root.querySelector("[data-testid=countdown]"),
      flash: root.querySelector("[data-role=flash]"),
      standing: root.querySelector("[data-role=standing]"),
      result: root.querySelector("[data-role=result]"),
      resultText: root.querySelector("[data-role=result-text]"),
      resultDetail: root.querySelector("[data-role=result-detail]"),
      nextSteps: root.querySelector("[data-role=next-steps]"),
      connBox: root.querySelector("[data-testid=connection]"),
      historyMore: root.querySelector("[data-role=history-more]"),
      badges: document.querySelectorAll('[data-lot-status="' + data.lot + '"]'),
      form: root.querySelector("form.live-bid-form"),
      cannot: root.querySelector("[data-testid=cannot-bid]"),
      history: root.querySelector("[data-testid=bid-history]"),
    };
    var form = this.el.form;
    if (form) {
      this.el.amount = form.querySelector("input[name=amount]");
      this.el.max = form.querySelector("input[name=max_amount]");
      this.el.submit = form.querySelector("button[type=submit]");
      this.el.minNext = form.querySelector("[data-role=min-next]");
      this.el.total = form.querySelector("[data-role=total]");
      this.el.myMax = form.querySelector("[data-role=my-max]");
      this.el.ownTop = form.querySelector("[data-role=own-top]");
      this.el.bidResult = form.querySelector("[data-role=bid-result]");
      this.el.bidNote = form.querySelector("[data-role=bid-note]");
    }
    root.dataset.js = "on";
    this.el.connBox.hidden = false;
    this.bind();
    this.tick();
    var self = this;
    this.clockTimer = window.setInterval(function () {
      self.tick();
    }, 250);
    this.connect();
  }

  Panel.prototype.bind = function () {
    var self = this;
    if (this.el.form) {
      this.el.form.addEventListener("submit", function (event) {
        event.preventDefault();
        self.submitBid();
      });
      this.el.amount.addEventListener("input", function () {
        self.userEdited = true;
        self.renderTotal();
      });
    }
    if (this.el.historyMore) {
      this.el.historyMore.addEventListener("click", function () {
        self.historyOpen = !self.historyOpen;
        self.renderHistoryMore();
      });
    }
    window.addEventListener("online", function () {
      if (!self.connected && !self.gone) self.reconnectNow();
    });
    window.addEventListener("offline", function () {
      if (self.ws) self.ws.close();
    });
    // A phone that slept may hold a socket that died quietly: on wake, reconnect or catch up.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState !== "visible" || self.gone) return;
      if (!self.connected) self.reconnectNow();
      else self.resync(true);
    });
  };

  // --- The connection -------------------------------------------------------------------

  Panel.prototype.connect = function () {
    var self = this;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws;
    this.reconnectTimer = null;
    try {
      ws = new WebSocket(scheme + window.location.host + this.root.dataset.wsPath);
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = function () {
      if (self.ws !== ws) return;
      self.connected = true;
      // The server greets every connection with a snapshot; the resync is the belt to its
      // braces: whatever the snapshot's cut, nothing after lastSeq is missed.
      if (self.hadConnection && self.s.lastSeq > 0) self.resync(true);
      self.hadConnection = true;
      self.render();
    };
    ws.onmessage = function (event) {
      if (self.ws !== ws) return;
      self.lastFrameAt = Date.now();
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
      self.connected = false;
      self.synced = false;
      self.failPending();
      if (event.code === 4404) {
        self.gone = true;
        self.flash(self.msg.gone, "error");
      } else {
        self.scheduleReconnect();
      }
      self.render();
    };
  };

  Panel.prototype.scheduleReconnect = function () {
    var self = this;
    if (this.reconnectTimer || this.gone) return;
    var base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    var delay = Math.round(base * (0.8 + Math.random() * 0.4)); // jitter: not every tab at once
    this.reconnectTimer = window.setTimeout(function () {
      self.connect();
    }, delay);
  };

  Panel.prototype.reconnectNow = function () {
    if (this.reconnectTimer) window.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (!this.ws) this.connect();
  };

  Panel.prototype.send = function (message) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  };

  Panel.prototype.resync = function (force) {
    var now = Date.now();
    if (!force && now - this.lastResync < 1000) return; // one replay request in flight is enough
    this.lastResync = now;
    this.send({ type: "resync", after_seq: this.s.lastSeq });
  };

  // --- Frames ---------------------------------------------------------------------------

  Panel.prototype.onFrame = function (frame) {
    if (!frame || typeof frame.type !== "string") return;
    if (frame.type === "bid_result") {
      window.__lotReplies.push(frame);
      this.applyResult(frame);
      this.render();
      return;
    }
    if (frame.type === "error") {
      window.__lotReplies.push(frame);
      this.showResult(frame.detail || frame.code, false, frame.code);
      return;
    }
    if (frame.type === "snapshot") {
      this.applySnapshot(frame);
      window.__lotEvents.push(frame);
      this.render();
      return;
    }
    if (typeof frame.seq !== "number" || frame.seq <= this.s.lastSeq) return;
    if (frame.seq > this.s.lastSeq + 1) {
      this.resync(false);
      return;
    }
    this.s.lastSeq = frame.seq;
    if (frame.type === "bid") this.applyBid(frame);
    else if (frame.type === "closed") this.applyClosed(frame);
    else if (frame.type === "status") this.applyStatus(frame);
    window.__lotEvents.push(frame);
    this.render();
  };

  Panel.prototype.applySnapshot = function (f) {
    var s = this.s;
    var serverNow = parseTime(f.server_time);
    if (serverNow !== null) this.offset = serverNow - Date.now();
    s.lastSeq = f.seq;
    s.status = f.status;
    if (f.format) s.format = f.format;
    s.price = fen(f.current_price);
    s.finalPrice = fen(f.final_price);
    s.bidCount = f.bid_count || 0;
    s.endsAt = parseTime(f.ends_at) || s.endsAt;
    s.startsAt = parseTime(f.starts_at) || s.startsAt;
    s.reserveMet = f.reserve_met === undefined ? s.reserveMet : f.reserve_met;
    if (typeof f.reason === "string") this.reason = f.reason;
    this.synced = true;
    s.bids = (f.bids || []).map(function (row) {
      return { seq: row.seq, amount: row.amount, bidder: row.bidder, proxy: !!row.proxy, at: row.created_at };
    });
    s.minNext = this.gridUp(fen(f.min_next_bid));
    if (this.pendingSeq !== null) this.learnAlias();
    this.attempt = 0;
    if (this.isClosed()) this.clearNotices();
    this.renderHistory();
    this.updateMinNext();
  };

  Panel.prototype.applyBid = function (f) {
    var s = this.s;
    s.bids.unshift({ seq: f.seq, amount: f.amount, bidder: f.bidder, proxy: !!f.proxy, at: f.at });
    if (s.bids.length > HISTORY_MAX) s.bids.length = HISTORY_MAX;
    if (typeof f.bid_count === "number") s.bidCount = f.bid_count;
    if (f.current_price !== null && f.current_price !== undefined) s.price = fen(f.current_price);
    if (f.ends_at) s.endsAt = parseTime(f.ends_at) || s.endsAt;
    if (typeof f.reserve_met === "boolean") s.reserveMet = f.reserve_met;
    else this.checkReserveSoon();
    if (this.pendingSeq === f.seq) this.myNumber = aliasNumber(f.bidder);
    s.minNext = this.computeMinNext();
    this.prependHistory(s.bids[0]);
    this.updateMinNext();
  };

  Panel.prototype.applyStatus = function (f) {
    if (f.status) this.s.status = f.status;
    if (this.isClosed()) this.clearNotices();
    if (f.ends_at) {
      this.s.endsAt = parseTime(f.ends_at) || this.s.endsAt;
      // The bid that caused it already carried the new end (its frame comes first): the
      // notice follows the `extended` event itself, not a change of the clock.
      if (f.event === "extended" && !this.isClosed()) {
        this.flash(fill(this.msg.extended, { time: clockTime(this.s.endsAt) }), "extended");
      }
    }
  };

  Panel.prototype.applyClosed = function (f) {
    this.s.status = f.status;
    this.s.finalPrice = fen(f.final_price);
    if (f.winner) this.s.winner = f.winner;
    if (typeof f.reason === "string") this.reason = f.reason;
    if (this.s.finalPrice !== null) this.s.price = this.s.finalPrice;
    this.clearNotices();
    // A sealed lot's amounts were hidden until now: its highest bid comes from the API.
    if (this.s.price === null && this.s.bidCount > 0) this.fetchPrice();
  };

  // Notices about the auction in progress (an extension, a bid's answer) end with it.
  Panel.prototype.clearNotices = function () {
    var flash = this.el.flash;
    if (flash.dataset.kind !== "error") {
      flash.hidden = true;
      flash.textContent = "";
      flash.dataset.kind = "";
    }
    if (this.flashTimer) window.clearTimeout(this.flashTimer);
    this.flashTimer = null;
    if (this.el.bidResult) this.el.bidResult.hidden = true;
  };

  Panel.prototype.fetchPrice = function () {
    var self = this;
    var url = this.root.dataset.apiUrl;
    if (!url || !window.fetch) return;
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body && body.current_price && self.s.price === null) {
          self.s.price = fen(body.current_price);
          self.render();
        }
      })
      .catch(function () {});
  };

  Panel.prototype.applyResult = function (f) {
    var pending = this.pending;
    if (pending) window.clearTimeout(pending.timer);
    this.pending = null;
    if (!f.ok) {
      this.showResult(f.detail || f.code, false, f.code);
      return;
    }
    var amount = fen(f.amount);
    var text;
    var tone = "";
    if (this.s.format === "sealed") {
      this.ownTop = Math.max(this.ownTop || 0, amount || 0);
      text = fill(this.msg.bid_ok_sealed, { amount: yuan(amount) });
    } else {
      this.resultStanding = f.leading ? "leading" : "outbid";
      text = fill(f.leading ? this.msg.bid_ok_leading : this.msg.bid_ok_outbid, { amount: yuan(amount) });
      // In, but a rival's proxy maximum answered at once: that is news to act on, not a success.
      if (!f.leading) tone = "warning";
      if (pending && pending.max !== null && pending.max > amount) {
        this.myMax = Math.max(this.myMax || 0, pending.max);
      }
    }
    this.pendingSeq = typeof f.seq === "number" ? f.seq : null;
    this.learnAlias();
    // The bid's own frame brings the price; the next minimum is known already.
    var lot = f.lot || {};
    var floor = f.min_next_bid ? this.gridUp(fen(f.min_next_bid)) : this.minAfter(fen(lot.current_price));
    if (floor !== null && (this.s.minNext === null || floor > this.s.minNext)) this.s.minNext = floor;
    // Prefill the next minimum, unless the bidder typed another amount while this one flew.
    if (pending && this.el.amount.value.trim() === pending.typed) this.userEdited = false;
    if (this.el.max && pending && this.el.max.value.trim() === pending.typedMax) this.el.max.value = "";
    this.updateMinNext();
    this.showResult(text, true, "", tone);
  };

  Panel.prototype.learnAlias = function () {
    for (var i = 0; i < this.s.bids.length; i++) {
      if (this.s.bids[i].seq === this.pendingSeq) {
        this.myNumber = aliasNumber(this.s.bids[i].bidder);
        return;
      }
    }
  };

  // --- Reserve: bid frames do not say; ask the API, only while it is not met ---------------

  Panel.prototype.checkReserveSoon = function () {
    var self = this;
    var url = this.root.dataset.apiUrl;
    if (!url || !this.hasReserve || this.s.reserveMet !== false || this.s.format !== "english") return;
    if (this.reserveTimer) window.clearTimeout(this.reserveTimer);
    this.reserveTimer = window.setTimeout(function () {
      self.reserveTimer = null;
      if (!window.fetch) return;
      window
        .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (body) {
          if (body && typeof body.reserve_met === "boolean") {
            self.s.reserveMet = body.reserve_met;
            self.render();
          }
        })
        .catch(function () {});
    }, 400);
  };

  // --- Prices ---------------------------------------------------------------------------

  Panel.prototype.stepFor = function (price) {
    if (this.fixedStep) return this.fixedStep;
    var at = price === null ? this.start : price;
    for (var i = 0; i < this.ladder.length; i++) {
      if (this.ladder[i][0] === null || at < this.ladder[i][0]) return this.ladder[i][1];
    }
    return this.ladder[this.ladder.length - 1][1];
  };

  // The smallest amount on the grid start + k × step at or above `value` (the engine's rule).
  Panel.prototype.gridUp = function (value, price) {
    if (value === null || this.s.format === "sealed") return value;
    var step = this.stepFor(price === undefined ? this.s.price : price);
    var off = (value - this.start) % step;
    return off <= 0 ? value : value - off + step;
  };

  Panel.prototype.minAfter = function (price) {
    if (price === null || price === undefined) return null;
    return this.gridUp(price + this.stepFor(price), price);
  };

  Panel.prototype.computeMinNext = function () {
    if (this.s.format === "sealed") {
      return this.ownTop ? Math.max(this.start, this.ownTop + this.stepFor(this.ownTop)) : this.start;
    }
    return this.s.price === null ? this.start : this.minAfter(this.s.price);
  };

  Panel.prototype.updateMinNext = function () {
    var min = this.s.minNext;
    if (this.s.format === "sealed") min = this.computeMinNext();
    if (!this.el.amount || min === null) return;
    this.el.amount.min = plain(min);
    // Never raise an amount the bidder typed: money moves only on purpose. A typed amount that
    // fell below the minimum is refused by the server with the minimum in its reason.
    if (!this.userEdited || fen(this.el.amount.value) === null) {
      this.el.amount.value = plain(min);
      this.userEdited = false;
    }
    this.el.minNext.textContent = fill(this.msg.min_next, { amount: yuan(min) });
    this.renderTotal();
  };

  Panel.prototype.renderTotal = function () {
    if (!this.el.total) return;
    var typed = fen(this.el.amount.value);
    if (typed === null || !(this.quantity > 0)) {
      this.el.total.textContent = "";
      return;
    }
    var total = Math.round(typed * this.quantity);
    this.el.total.textContent = fill(this.msg.total, { total: yuan(total), quantity: this.quantityText() });
  };

  Panel.prototype.quantityText = function () {
    return this.root.dataset.quantity + " " + this.unit;
  };

  // --- Bidding --------------------------------------------------------------------------

  Panel.prototype.submitBid = function () {
    var self = this;
    if (this.pending) return;
    var amountText = this.el.amount.value.trim();
    var maxText = this.el.max ? this.el.max.value.trim() : "";
    var message = { type: "bid", amount: amountText };
    if (maxText) message.max_amount = maxText;
    if (!this.send(message)) {
      this.showResult(this.msg.not_connected, false, "not_connected");
      return;
    }
    this.pending = {
      amount: fen(amountText),
      max: fen(maxText),
      typed: amountText,
      typedMax: maxText,
      timer: window.setTimeout(function () {
        self.pending = null;
        self.showResult(self.msg.no_answer, false, "timeout");
        self.render();
      }, BID_TIMEOUT_MS),
    };
    this.showResult(this.msg.bid_sending, null, "");
    this.render();
  };

  Panel.prototype.failPending = function () {
    if (!this.pending) return;
    window.clearTimeout(this.pending.timer);
    this.pending = null;
    this.showResult(this.msg.no_answer, false, "disconnected");
  };

  Panel.prototype.showResult = function (text, ok, code, tone) {
    var el = this.el.bidResult;
    if (!el) {
      if (ok === false) this.flash(text, "error");
      return;
    }
    el.hidden = false;
    el.textContent = text;
    el.dataset.ok = ok === null ? "" : String(ok);
    el.dataset.code = code || "";
    el.dataset.tone = tone || (ok === false ? "error" : ok ? "ok" : "");
    el.className = "live-bid-result is-" + (el.dataset.tone || "pending");
  };

  Panel.prototype.flash = function (text, kind) {
    var el = this.el.flash;
    var self = this;
    el.hidden = false;
    el.textContent = text;
    el.dataset.kind = kind;
    el.className = "live-flash live-flash-" + kind;
    // Restart the highlight animation for a second notice of the same kind.
    void el.offsetWidth;
    el.classList.add("is-new");
    if (this.flashTimer) window.clearTimeout(this.flashTimer);
    this.flashTimer = window.setTimeout(function () {
      el.classList.remove("is-new");
    }, 4000);
    if (kind !== "error" && kind !== "extended") {
      window.setTimeout(function () {
        if (el.textContent === text) el.hidden = true;
      }, 8000);
    }
  };

  // --- Rendering ------------------------------------------------------------------------

  Panel.prototype.isClosed = function () {
    return CLOSED.indexOf(this.s.status) >= 0;
  };

  Panel.prototype.computeStanding = function () {
    var s = this.s;
    if (this.isClosed()) return null;
    if (s.format === "sealed") return this.ownTop ? "sealed" : null;
    if (this.myNumber === null) return this.resultStanding;
    var top = s.bids[0];
    if (!top) return this.resultStanding;
    return aliasNumber(top.bidder) === this.myNumber ? "leading" : "outbid";
  };

  // The socket: "connected" once this connection's snapshot came (the page is up to date),
  // "reconnecting" after a drop or a failed first try, "connecting" before the first answer.
  Panel.prototype.connState = function () {
    if (this.connected && this.synced) return "connected";
    return this.hadConnection || this.attempt > 0 ? "reconnecting" : "connecting";
  };

  Panel.prototype.state = function () {
    if (this.isClosed()) return "closed";
    var conn = this.connState();
    if (conn !== "connected") return conn;
    if (this.standing === "leading" || this.standing === "outbid") return this.standing;
    return "live";
  };

  Panel.prototype.render = function () {
    var s = this.s;
    var msg = this.msg;
    var previous = this.standing;
    this.standing = this.computeStanding();
    // "You are the highest bidder" from our last bid_result is no longer true.
    if (previous === "leading" && this.standing === "outbid" && this.el.bidResult) {
      if (this.el.bidResult.dataset.ok === "true") this.el.bidResult.hidden = true;
    }
    var state = this.state();
    var conn = this.connState();
    var closed = this.isClosed();
    var offline = conn === "reconnecting" && !closed;
    this.root.dataset.state = state;
    this.root.dataset.conn = conn;
    this.root.dataset.status = s.status;
    this.root.dataset.seq = String(s.lastSeq);

    // The connection indicator names the connection; the lot's status is its badge's.
    this.el.conn.textContent = msg[conn];
    var statusText = (msg.status_labels || {})[s.status] || s.status;
    Array.prototype.forEach.call(this.el.badges, function (badge) {
      if (badge.dataset.status === s.status) return;
      badge.dataset.status = s.status;
      badge.className = "badge lot-status lot-status-" + s.status;
      badge.textContent = statusText;
    });

    // Price
    var label, price;
    if (s.status === "awarded" && s.finalPrice !== null) {
      label = msg.price_final;
      price = s.finalPrice;
    } else if (s.format === "sealed" && !closed) {
      label = msg.price_sealed;
      price = this.start;
    } else if (closed) {
      // Unsold or withdrawn: the highest bid, never a "current" price.
      label = s.price !== null ? msg.price_highest : s.bidCount ? msg.price_highest : msg.price_no_bids;
      price = s.price !== null ? s.price : s.bidCount ? null : this.start;
    } else if (s.price !== null) {
      label = msg.price_current;
      price = s.price;
    } else {
      label = msg.price_start;
      price = this.start;
    }
    this.el.priceLabel.textContent = label;
    this.el.price.textContent = price === null ? "—" : yuan(price) + "/" + this.unit;
    this.el.price.dataset.amount = price === null ? "" : plain(price);
    this.el.count.textContent = fill(s.bidCount === 1 ? msg.bids_one : msg.bids_many, { n: s.bidCount });

    var badge = this.el.reserve;
    if (badge && this.hasReserve) {
      var met = s.status === "awarded" ? true : s.reserveMet;
      badge.hidden = met === null;
      badge.dataset.reserve = met === null ? "hidden" : met ? "met" : "not-met";
      badge.textContent = met ? msg.reserve_met : msg.reserve_not_met;
      badge.className = "badge " + (met ? "badge-verified" : "badge-pending");
    }

    // Standing (leading / outbid / sealed bid in)
    var standingEl = this.el.standing;
    if (this.standing) {
      standingEl.hidden = false;
      if (previous !== this.standing && previous !== undefined) {
        standingEl.classList.remove("is-new");
        void standingEl.offsetWidth; // restart the highlight
        standingEl.classList.add("is-new");
      }
      standingEl.dataset.standing = this.standing;
      var standingText =
        this.standing === "sealed"
          ? fill(msg.sealed_in, { amount: yuan(this.ownTop) })
          : this.standing === "leading"
            ? msg.leading
            : msg.outbid;
      // While the page is cut off, the standing is what it was: say so, and dim it.
      standingEl.textContent = offline ? fill(msg.stale, { text: standingText }) : standingText;
      standingEl.classList.toggle("is-stale", offline);
    } else {
      standingEl.hidden = true;
      standingEl.dataset.standing = "";
    }

    // Result once closed: who won, whether it was us, why nobody did; the winner's next steps.
    var result = this.el.result;
    if (closed) {
      var text, detail = "", mine = "";
      if (s.status === "awarded") {
        var won = this.myNumber !== null && aliasNumber(s.winner) === this.myNumber;
        mine = won ? "won" : this.myNumber !== null ? "lost" : "";
        text = won
          ? fill(msg.you_won, { price: yuan(s.finalPrice) + "/" + this.unit })
          : fill(msg.awarded, { price: yuan(s.finalPrice) + "/" + this.unit, winner: this.alias(s.winner) || "—" });
        if (mine === "lost") detail = msg.you_lost;
      } else if (s.status === "unsold") {
        text = msg.unsold;
        detail = (msg.reasons || {})[this.reason] || "";
      } else {
        text = msg.withdrawn;
      }
      result.hidden = false;
      result.dataset.status = s.status;
      result.dataset.mine = mine;
      this.el.resultText.textContent = text;
      this.el.resultDetail.textContent = detail;
      this.el.resultDetail.hidden = !detail;
      if (this.el.nextSteps) this.el.nextSteps.hidden = mine !== "won";
    } else {
      result.hidden = true;
    }

    // The form: gone once closed; disabled while a bid is in flight or before opening.
    if (this.el.form) {
      this.el.form.hidden = closed;
      this.el.submit.disabled = !!this.pending || conn !== "connected" || s.status !== "live";
      // Say why the button is off: the connection is lost, or the lot has not opened yet.
      var note = "", kind = "";
      if (!closed && offline) {
        note = msg.offline;
        kind = "offline";
      } else if (s.status === "scheduled" && s.startsAt !== null) {
        note = fill(msg.opens_at, { time: dayTime(s.startsAt) });
        kind = "scheduled";
      }
      var noteEl = this.el.bidNote;
      if (noteEl.textContent !== note) noteEl.textContent = note;
      noteEl.hidden = !note;
      noteEl.dataset.kind = kind;
      noteEl.setAttribute("role", kind === "offline" ? "alert" : "status");
      if (this.el.myMax) {
        // Outbid with a proxy maximum: the rival went past it, it no longer bids for us.
        var exceeded = !!this.myMax && this.standing === "outbid";
        this.el.myMax.hidden = !this.myMax;
        this.el.myMax.classList.toggle("is-exceeded", exceeded);
        if (this.myMax) {
          this.el.myMax.textContent = fill(exceeded ? msg.proxy_exceeded : msg.proxy_set, { amount: yuan(this.myMax) });
        }
      }
      if (this.el.ownTop) this.el.ownTop.hidden = true; // the standing line says it now
    }
    if (this.el.cannot) this.el.cannot.hidden = closed;
    this.markMine();
    this.renderHistoryMore();
    this.tick();
  };

  // --- The countdown, on the server's clock ----------------------------------------------

  Panel.prototype.tick = function () {
    var s = this.s;
    var now = Date.now() + this.offset;
    var msg = this.msg;
    var label, value, urgent = false;
    if (this.isClosed()) {
      label = msg.ended;
      value = s.endsAt ? clockTime(s.endsAt) : "";
    } else {
      var quiet = Date.now() - Math.max(this.lastFrameAt, this.lastResync);
      if (this.connected && quiet >= this.quietMs) this.resync(true);
      var scheduled = s.status === "scheduled";
      var target = scheduled ? s.startsAt : s.endsAt;
      var left = target === null ? 0 : target - now;
      label = scheduled ? msg.starts_in : msg.ends_in;
      if (left <= 0) {
        // The clock process opens and closes the lot; its frame may come by broadcast or,
        // when that is lost (another process, no shared channel layer), by this replay.
        value = scheduled ? msg.opening : msg.closing;
        if (this.connected && Date.now() - this.lastResync >= POLL_MS) this.resync(true);
      } else {
        value = this.countdown(left);
        urgent = !scheduled && left < 60000;
      }
    }
    if (this.el.clockLabel.textContent !== label) this.el.clockLabel.textContent = label;
    if (this.el.clockValue.textContent !== value) this.el.clockValue.textContent = value;
    this.el.clock.classList.toggle("is-urgent", urgent);
  };

  Panel.prototype.countdown = function (ms) {
    var total = Math.ceil(ms / 1000);
    var days = Math.floor(total / 86400);
    var hours = Math.floor((total % 86400) / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var seconds = total % 60;
    var msg = this.msg;
    // "2d 03h 04min 05s", "4min 05s", "35s": no leading zero units.
    var units = [
      [days, msg.unit_d],
      [hours, msg.unit_h],
      [minutes, msg.unit_m],
      [seconds, msg.unit_s],
    ];
    var parts = [];
    units.forEach(function (unit, index) {
      if (!parts.length && !unit[0] && index < units.length - 1) return;
      parts.push((parts.length ? two(unit[0]) : String(unit[0])) + unit[1]);
    });
    return parts.join(" ");
  };

  // --- Bid history ----------------------------------------------------------------------

  // The alias in the page's language ("Bidder 3" on an English page, whatever the frame said).
  Panel.prototype.alias = function (text) {
    var number = aliasNumber(text);
    return number === null || !this.msg.bidder ? text || "" : fill(this.msg.bidder, { n: number });
  };

  Panel.prototype.historyRow = function (bid) {
    var li = document.createElement("li");
    li.className = "live-bid";
    li.dataset.seq = String(bid.seq);
    var who = document.createElement("span");
    who.className = "live-bid-who";
    who.textContent = this.alias(bid.bidder);
    li.appendChild(who);
    var amount = document.createElement("span");
    amount.className = "live-bid-amount";
    amount.textContent = bid.amount === null || bid.amount === undefined ? this.msg.sealed_amount : yuan(fen(bid.amount));
    li.appendChild(amount);
    if (bid.proxy) {
      var tag = document.createElement("span");
      tag.className = "live-bid-tag";
      tag.textContent = this.msg.proxy;
      li.appendChild(tag);
    }
    var at = parseTime(bid.at);
    if (at !== null) {
      var time = document.createElement("time");
      time.dateTime = bid.at;
      time.textContent = clockTime(at);
      li.appendChild(time);
    }
    return li;
  };

  Panel.prototype.renderHistory = function () {
    var list = this.el.history;
    var self = this;
    list.textContent = "";
    if (!this.s.bids.length) {
      var empty = document.createElement("li");
      empty.className = "live-bids-empty muted";
      empty.textContent = this.msg.no_bids;
      list.appendChild(empty);
      return;
    }
    this.s.bids.forEach(function (bid) {
      list.appendChild(self.historyRow(bid));
    });
  };

  Panel.prototype.prependHistory = function (bid) {
    var list = this.el.history;
    var empty = list.querySelector(".live-bids-empty");
    if (empty) empty.remove();
    var row = this.historyRow(bid);
    row.classList.add("is-new");
    list.insertBefore(row, list.firstChild);
    while (list.children.length > HISTORY_MAX) list.removeChild(list.lastChild);
  };

  // The list flows with the page (no box scrolling inside the page): the latest rows, and a
  // button for the rest.
  Panel.prototype.renderHistoryMore = function () {
    var button = this.el.historyMore;
    if (!button) return;
    var count = this.el.history.querySelectorAll(".live-bid").length;
    var long = count > HISTORY_SHOWN;
    this.el.history.classList.toggle("is-collapsed", long && !this.historyOpen);
    button.hidden = !long;
    button.setAttribute("aria-expanded", String(long && this.historyOpen));
    var text = this.historyOpen ? this.msg.show_fewer : fill(this.msg.show_all, { n: count });
    if (button.textContent !== text) button.textContent = text;
  };

  Panel.prototype.markMine = function () {
    var self = this;
    var english = this.s.format === "english";
    Array.prototype.forEach.call(this.el.history.children, function (li, index) {
      var who = li.querySelector(".live-bid-who");
      if (!who) return;
      var mine = self.myNumber !== null && aliasNumber(who.firstChild && who.firstChild.nodeValue) === self.myNumber;
      li.classList.toggle("is-mine", mine);
      li.classList.toggle("is-top", english && index === 0);
      var you = who.querySelector(".live-bid-you");
      if (mine && !you) {
        you = document.createElement("small");
        you.className = "live-bid-you";
        you.textContent = " (" + self.msg.you + ")";
        who.appendChild(you);
      } else if (!mine && you) {
        you.remove();
      }
    });
  };

  function start() {
    document.querySelectorAll("[data-live]").forEach(function (root) {
      if (!root.__live) root.__live = new Panel(root);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
