// Starts GraphiQL, with the explorer, on the GraphQL endpoint that served the page: queries and
// mutations over HTTP, the subscription over WebSocket. A file of its own, not an inline script,
// so that the page's Content-Security-Policy can refuse every script not served from its origin.
"use strict";

const endpoint = new URL(window.location.pathname, window.location.href);
const socket = new URL(endpoint);
socket.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

const welcome = `# Bevoegd's GraphQL API: run a query with Ctrl-Enter; the schema is under Docs.
# Mutations need a bearer token, given under Headers: {"Authorization": "Bearer ..."}
{
  ledger {
    position
  }
}
`;

ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher: GraphiQL.createFetcher({ url: endpoint.href, subscriptionUrl: socket.href }),
    plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    defaultQuery: welcome,
    isHeadersEditorEnabled: true,
    inputValueDeprecation: true,
  }),
);
