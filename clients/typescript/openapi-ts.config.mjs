// @hey-api/openapi-ts settings for the mxspool TypeScript SDK (see clients/generate).
// MXSPOOL_TS_OUTPUT lets the drift check generate into a scratch folder.
export default {
  input: '../../openapi/openapi.json',
  output: {
    path: process.env.MXSPOOL_TS_OUTPUT ?? 'src/generated',
    tsConfigPath: './tsconfig.json',
    // Node's ES modules need the extension in relative imports.
    module: { extension: '.js' },
  },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
};
