// The API reference page (/docs): starts Swagger UI (served by kassa beside this file) on
// kassa's own OpenAPI document. The page's Content-Security-Policy allows scripts and styles
// from kassa only, so this file, not an inline script, does the starting.
"use strict";

window.addEventListener("DOMContentLoaded", function () {
  window.ui = window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis],
    // Without the standalone preset's top bar, which offers to load any other document.
    layout: "BaseLayout",
    // The validator badge would send the document to validator.swagger.io.
    validatorUrl: null,
    // `?url=` and `?configUrl=` must not point the page at another document.
    queryConfigEnabled: false,
    // A key entered under "Authorize" stays in the tab, not in localStorage.
    persistAuthorization: false,
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    filter: true,
    // "Try it out" sends to the document's origin (it names no `servers`): kassa itself; the
    // CSP's `connect-src 'self'` holds it there.
    tryItOutEnabled: false,
  });
});
