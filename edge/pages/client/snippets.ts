// Copyable code for the playground's current request. Pure. The key is never put in a snippet:
// they read it from GENART_API_KEY.

const shellQuote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

export function curlSnippet(origin: string, body: Record<string, unknown>): string {
  return [
    `curl -s ${origin}/v1/generations \\`,
    `  -H "Authorization: Bearer $GENART_API_KEY" \\`,
    `  -H "Content-Type: application/json" -H "Prefer: wait=30" \\`,
    `  -d ${shellQuote(JSON.stringify(body))}`,
  ].join("\n");
}

export function javascriptSnippet(origin: string, body: Record<string, unknown>): string {
  const json = JSON.stringify(body, null, 2).replaceAll("\n", "\n  ");
  return [
    `const res = await fetch("${origin}/v1/generations", {`,
    `  method: "POST",`,
    `  headers: {`,
    `    Authorization: \`Bearer \${process.env.GENART_API_KEY}\`,`,
    `    "Content-Type": "application/json",`,
    `    Prefer: "wait=30",`,
    `  },`,
    `  body: JSON.stringify(${json}),`,
    `});`,
    `const generation = await res.json();`,
  ].join("\n");
}
