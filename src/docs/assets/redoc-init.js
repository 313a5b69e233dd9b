// Renders the REST reference (GET /docs) with Redoc's standalone bundle, served by this server.
// A file of its own rather than an inline script: the docs' CSP allows scripts from 'self' only.
(function () {
  var container = document.getElementById('redoc-container');
  // Redoc is a global of redoc.standalone.js, loaded just before this file.
  // eslint-disable-next-line no-undef
  Redoc.init(
    container.getAttribute('data-spec-url'),
    {
      expandResponses: '200,201',
      jsonSampleExpandLevel: 2,
      sortTagsAlphabetically: false,
      theme: {
        colors: { primary: { main: '#3b5bdb' } },
        typography: {
          fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
          headings: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' },
          code: { fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace' },
        },
        sidebar: { width: '280px' },
      },
    },
    container,
  );
})();
