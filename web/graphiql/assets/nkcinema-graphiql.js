// Starts GraphiQL on the catalog's endpoint, with the example operations as its tabs.
// Configuration comes from the page's JSON <script id="nkcinema-config"> (no inline code).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("nkcinema-config").textContent);
  var endpoint = new URL(config.endpoint, window.location.href).toString();
  var fetcher = GraphiQL.createFetcher({ url: endpoint });
  var explorer = GraphiQLPluginExplorer.explorerPlugin();
  var tabs = config.tabs.map(function (tab) {
    return { query: tab.query, variables: tab.variables || undefined };
  });
  var first = tabs[0] || {};
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: tabs.length ? tabs : undefined,
      // GraphiQL fills the active tab's editors from these, not from defaultTabs[0]
      query: first.query,
      variables: first.variables,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      plugins: [explorer],
    })
  );
})();
