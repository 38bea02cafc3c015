/* The desk's live link (Socket.IO namespace /desk), for any page of the ticket desk.

   window.NovaDeskLive = {connect(), on(name, fn), viewing(ticketId|null), composing(ticketId, bool),
                          connected: bool, me: {id, name}|null}
   DOM events on `document` (detail in brackets):
     novadesk:ticket    a ticket changed [the ticket.changed payload: ids only; read it again]
     novadesk:presence  who else has a ticket open [{ticket_id, viewers: [{id, name, composing}]}]
                        (oneself is never in the list)
     novadesk:online / novadesk:offline   the link is up / down (poll while it is down)
     novadesk:resync    the link is back after a cut: read everything again
   `on(name, fn)` is a shortcut for the same events without the prefix.
   Needs the Socket.IO client (/static/vendor/socketio/socket.io.min.js) loaded first. */
(function () {
  "use strict";
  if (window.NovaDeskLive) return;

  var socket = null;
  var everConnected = false;
  var current = null; // the ticket this page has open
  var writing = false;
  var KEEP_ALIVE_MS = 30000; // the server forgets a desk not heard of for 90 s

  function fire(name, detail) {
    document.dispatchEvent(new CustomEvent("novadesk:" + name, { detail: detail }));
  }

  function withoutMe(payload) {
    var me = live.me;
    return {
      ticket_id: payload.ticket_id,
      viewers: (payload.viewers || []).filter(function (v) { return !me || v.id !== me.id; }),
    };
  }

  function announce() {
    if (!socket || !socket.connected) return;
    socket.emit("viewing", { ticket_id: current }, function (answer) {
      if (answer && !answer.error && answer.ticket_id !== null && answer.ticket_id === current) {
        fire("presence", withoutMe(answer));
      }
    });
    if (current !== null && writing) socket.emit("composing", { ticket_id: current, on: true });
  }

  var live = {
    connected: false,
    me: null,

    connect: function () {
      if (socket) return live;
      if (typeof window.io !== "function") {
        fire("offline", { reason: "no-client" });
        return live;
      }
      socket = window.io("/desk", { reconnectionDelay: 500, reconnectionDelayMax: 5000 });
      socket.on("hello", function (me) { live.me = me; });
      socket.on("connect", function () {
        live.connected = true;
        var again = everConnected;
        everConnected = true;
        fire("online", {});
        announce();
        if (again) fire("resync", {});
      });
      socket.on("disconnect", function (reason) {
        live.connected = false;
        fire("offline", { reason: reason });
      });
      socket.on("connect_error", function (error) {
        live.connected = false;
        fire("offline", { reason: (error && error.data && error.data.message) || "unreachable" });
      });
      socket.on("ticket", function (payload) { fire("ticket", payload); });
      socket.on("presence", function (payload) {
        if (payload.ticket_id === current) fire("presence", withoutMe(payload));
      });
      // A device that knows it went offline need not wait for the heartbeat to time out.
      window.addEventListener("offline", function () { if (socket.connected) socket.io.engine.close(); });
      window.addEventListener("online", function () { if (!socket.connected) socket.connect(); });
      // Also with no ticket open: the server decides the desk's rooms again at each one.
      setInterval(announce, KEEP_ALIVE_MS);
      return live;
    },

    on: function (name, fn) {
      document.addEventListener("novadesk:" + name, function (event) { fn(event.detail); });
      return live;
    },

    viewing: function (ticketId) {
      var id = ticketId === null || ticketId === undefined ? null : Number(ticketId);
      if (id === current) return live;
      current = id;
      writing = false;
      announce();
      return live;
    },

    composing: function (ticketId, on) {
      on = !!on;
      if (Number(ticketId) !== current || on === writing) return live;
      writing = on;
      if (socket && socket.connected) socket.emit("composing", { ticket_id: current, on: on });
      return live;
    },
  };

  window.NovaDeskLive = live;
})();
