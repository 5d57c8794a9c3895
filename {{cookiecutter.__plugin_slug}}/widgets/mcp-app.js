/* mcp-app.js: the host bridge for a widget. A widget loads it with a script tag whose src is
 * "mcp-app.js"; the server inlines it there, so it needs no CDN and no build step.
 *
 *   const app = McpApp.connect();
 *   app.onInput((args) => ...);                 // the tool's arguments
 *   app.onResult((data, result) => ...);        // structuredContent, and the whole CallToolResult
 *   app.onContext((context) => ...);            // theme, locale, display mode...
 *   await app.callTool("sumar", { numero1: 1, numero2: 2 });
 *   app.sendMessage("Explain this result");     app.openLink("https://example.com");
 *
 * It speaks the MCP Apps bridge (JSON-RPC over postMessage with the host: ui/initialize,
 * ui/notifications/initialized, tool-input, tool-result, host-context-changed, tools/call,
 * ui/message, ui/open-link, ui/notifications/size-changed) and also reads ChatGPT's
 * window.openai (toolInput, toolOutput, theme, the openai:set_globals event), using it for calls
 * when the host does not answer ui/initialize. Outside a host it does nothing: app.host is "none".
 */
(function (global) {
  "use strict";

  var PROTOCOL_VERSION = "2026-01-26";
  var INITIALIZE_TIMEOUT_MS = 3000;
  var singleton = null;

  function dataOf(result) {
    if (!result || typeof result !== "object") return null;
    if (result.structuredContent != null) return result.structuredContent;
    var blocks = Array.isArray(result.content) ? result.content : [];
    for (var i = 0; i < blocks.length; i++) {
      if (blocks[i] && blocks[i].type === "text") {
        try { return JSON.parse(blocks[i].text); } catch (e) { return blocks[i].text; }
      }
    }
    return null;
  }

  function App(info) {
    var self = this;
    this.info = { name: (info && info.name) || document.title || "widget", version: (info && info.version) || "1.0.0" };
    this.host = "pending";      // "mcp-apps", "openai" or "none"
    this.input = null;          // the tool's arguments
    this.result = null;         // the CallToolResult
    this.data = null;           // its structuredContent
    this.context = {};          // the host context: theme, locale, displayMode, styles...
    this._listeners = { input: [], result: [], context: [] };
    this._pending = {};
    this._nextId = 1;
    this._lastData = undefined;
    this._embedded = global.parent && global.parent !== global;
    this._openai = global.openai || null;

    if (this._embedded) {
      global.addEventListener("message", function (event) {
        if (event.source === global.parent) self._receive(event.data);
      });
      this.ready = this._request("ui/initialize", {
        appInfo: this.info, appCapabilities: {}, protocolVersion: PROTOCOL_VERSION
      }, INITIALIZE_TIMEOUT_MS).then(function (answer) {
        self.host = "mcp-apps";
        self._setContext((answer && answer.hostContext) || {});
        self._notify("ui/notifications/initialized", {});
        self._watchSize();
        return self;
      }, function () {
        self.host = self._openai ? "openai" : "none";
        return self;
      });
    } else {
      this.host = this._openai ? "openai" : "none";
      this.ready = Promise.resolve(this);
    }
    if (this._openai) {
      this._fromOpenAI({ toolInput: 1, toolOutput: 1, toolResponseMetadata: 1, theme: 1, locale: 1, displayMode: 1 });
      global.addEventListener("openai:set_globals", function (event) {
        self._fromOpenAI((event.detail && event.detail.globals) || {});
      });
    }
  }

  App.prototype.onInput = function (fn) {
    this._listeners.input.push(fn);
    if (this.input) fn(this.input);
    return this;
  };

  App.prototype.onResult = function (fn) {
    this._listeners.result.push(fn);
    if (this.result) fn(this.data, this.result);
    return this;
  };

  App.prototype.onContext = function (fn) {
    this._listeners.context.push(fn);
    fn(this.context);
    return this;
  };

  /* Call a tool of this server; resolves with its CallToolResult. */
  App.prototype.callTool = function (name, args) {
    var self = this;
    return this.ready.then(function () {
      if (self.host === "mcp-apps") return self._request("tools/call", { name: name, arguments: args || {} });
      if (self._openai && self._openai.callTool) {
        return Promise.resolve(self._openai.callTool(name, args || {})).then(function (answer) {
          return answer && (answer.content || answer.structuredContent != null) ? answer : { content: [], structuredContent: answer };
        });
      }
      throw new Error("no host to call " + name + " through");
    });
  };

  /* Send a message to the conversation as the user. */
  App.prototype.sendMessage = function (text) {
    var self = this;
    return this.ready.then(function () {
      if (self.host === "mcp-apps") return self._request("ui/message", { role: "user", content: [{ type: "text", text: text }] });
      if (self._openai && self._openai.sendFollowUpMessage) return self._openai.sendFollowUpMessage({ prompt: text });
      throw new Error("no host to send a message to");
    });
  };

  App.prototype.openLink = function (url) {
    var self = this;
    return this.ready.then(function () {
      if (self.host === "mcp-apps") return self._request("ui/open-link", { url: url });
      if (self._openai && self._openai.openExternal) return self._openai.openExternal({ href: url });
      global.open(url, "_blank", "noopener");
    });
  };

  // -- internals ------------------------------------------------------------------------------
  App.prototype._send = function (message) {
    message.jsonrpc = "2.0";
    global.parent.postMessage(message, "*");
  };

  App.prototype._notify = function (method, params) {
    this._send({ method: method, params: params });
  };

  App.prototype._request = function (method, params, timeoutMs) {
    var self = this;
    var id = this._nextId++;
    return new Promise(function (resolve, reject) {
      self._pending[id] = { resolve: resolve, reject: reject };
      if (timeoutMs) {
        setTimeout(function () {
          if (self._pending[id]) {
            delete self._pending[id];
            reject(new Error(method + ": no answer from the host"));
          }
        }, timeoutMs);
      }
      self._send({ id: id, method: method, params: params });
    });
  };

  App.prototype._receive = function (message) {
    if (!message || message.jsonrpc !== "2.0") return;
    if (message.method === undefined) {  // an answer to one of our requests
      var pending = this._pending[message.id];
      if (!pending) return;
      delete this._pending[message.id];
      if (message.error) pending.reject(new Error(message.error.message || "host error " + message.error.code));
      else pending.resolve(message.result);
      return;
    }
    var params = message.params || {};
    switch (message.method) {
      case "ui/notifications/tool-input": this._setInput(params.arguments || {}); break;
      case "ui/notifications/tool-result": this._setResult(params); break;
      case "ui/notifications/host-context-changed": this._setContext(params); break;
      case "ui/resource-teardown":
      case "ping": break;
      default:
        if (message.id !== undefined) {
          this._send({ id: message.id, error: { code: -32601, message: "not handled by this widget: " + message.method } });
        }
        return;
    }
    if (message.id !== undefined) this._send({ id: message.id, result: {} });
  };

  App.prototype._emit = function (kind, args) {
    var listeners = this._listeners[kind];
    for (var i = 0; i < listeners.length; i++) {
      try { listeners[i].apply(null, args); } catch (e) { console.error(e); }
    }
  };

  App.prototype._setInput = function (args) {
    this.input = args;
    this._emit("input", [args]);
  };

  App.prototype._setResult = function (result) {
    var data = dataOf(result);
    var key = JSON.stringify(data);
    if (key === this._lastData) return;  // the same answer from both bridges
    this._lastData = key;
    this.result = result;
    this.data = data;
    this._emit("result", [data, result]);
  };

  App.prototype._setContext = function (changes) {
    for (var key in changes) {
      if (Object.prototype.hasOwnProperty.call(changes, key)) this.context[key] = changes[key];
    }
    var root = document.documentElement;
    if (this.context.theme === "light" || this.context.theme === "dark") {
      root.setAttribute("data-theme", this.context.theme);
      root.style.colorScheme = this.context.theme;
    }
    var variables = this.context.styles && this.context.styles.variables;
    for (var name in variables || {}) {
      if (variables[name]) root.style.setProperty(name, variables[name]);
    }
    this._emit("context", [this.context]);
  };

  App.prototype._fromOpenAI = function (changed) {
    var openai = this._openai;
    if ("toolInput" in changed && openai.toolInput) this._setInput(openai.toolInput);
    if ("toolOutput" in changed && openai.toolOutput != null) {
      this._setResult({ content: [], structuredContent: openai.toolOutput, _meta: openai.toolResponseMetadata || undefined });
    }
    var context = {};
    if ("theme" in changed && openai.theme) context.theme = openai.theme;
    if ("locale" in changed && openai.locale) context.locale = openai.locale;
    if ("displayMode" in changed && openai.displayMode) context.displayMode = openai.displayMode;
    if (Object.keys(context).length) this._setContext(context);
  };

  App.prototype._watchSize = function () {
    var self = this;
    var last = 0;
    function report() {
      var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
      if (height === last) return;
      last = height;
      if (self.host === "mcp-apps") self._notify("ui/notifications/size-changed", { height: height });
    }
    if (global.ResizeObserver) new ResizeObserver(report).observe(document.documentElement);
    report();
  };

  global.McpApp = {
    /* The widget's one App (created on the first call). */
    connect: function (info) {
      if (!singleton) singleton = new App(info);
      return singleton;
    }
  };
})(window);
