// Starts `apimfix server` for XML files; everything else (diagnostics, quick fixes, fix all,
// formatting, hover) is the language server's.
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate() {
  const command = vscode.workspace.getConfiguration('apimfix').get('path') || 'apimfix';
  client = new LanguageClient(
    'apimfix',
    'apimfix',
    { command, args: ['server'] },
    {
      documentSelector: [{ scheme: 'file', language: 'xml' }],
      synchronize: {
        fileEvents: vscode.workspace.createFileSystemWatcher('**/{rules.yaml,.apimfix.yaml,*.xml,*.json}'),
      },
    },
  );
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
