-- Drives Neovim's built-in LSP client against `apimfix server`, headless:
--
--   APIMFIX_BIN=... APIMFIX_FILE=policy.xml APIMFIX_OUT=out.json APIMFIX_ACTION=fixall \
--     nvim --headless -u NONE -i NONE -n -c 'luafile tests/nvim/lsp_client.lua'
--
-- Opens the policy, starts the server for it, waits for its diagnostics, then (by
-- APIMFIX_ACTION) applies the fix-all code action, the first finding's preferred quick fix,
-- or formats, each through Neovim's own code paths (`vim.lsp.buf.code_action` with the
-- selection answered, `vim.lsp.buf.format`/`formatting_sync`), writes the buffer, and writes
-- the diagnostics Neovim holds to APIMFIX_OUT as JSON. Exits non-zero on any failure, the
-- reason in APIMFIX_OUT.
local bin = os.getenv('APIMFIX_BIN')
local file = os.getenv('APIMFIX_FILE')
local out = os.getenv('APIMFIX_OUT')
local action = os.getenv('APIMFIX_ACTION') or 'none'
local timeout = 60000

local function write_out(value)
  local f = assert(io.open(out, 'w'))
  f:write(vim.fn.json_encode(value))
  f:close()
end

local function run()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].filetype = 'xml'
  local published = 0
  local client_id = vim.lsp.start_client({
    name = 'apimfix',
    cmd = { bin, 'server' },
    root_dir = vim.fn.getcwd(),
    handlers = {
      ['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
        vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
        if result.uri == vim.uri_from_bufnr(buf) then
          published = published + 1
        end
      end,
    },
  })
  assert(client_id, 'the client starts')
  vim.lsp.buf_attach_client(buf, client_id)
  assert(vim.wait(timeout, function() return published > 0 end, 20), 'no diagnostics')

  local diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local code = d.code
    if code == nil and d.user_data and d.user_data.lsp then
      code = d.user_data.lsp.code
    end
    table.insert(diagnostics, {
      code = code,
      lnum = d.lnum,
      col = d.col,
      end_lnum = d.end_lnum,
      end_col = d.end_col,
      severity = d.severity,
      message = d.message,
    })
  end

  -- Answers the selection Neovim offers with the action `pick` chooses.
  local function choose(pick)
    vim.ui.select = function(items, _, on_choice)
      for i, item in ipairs(items) do
        local a = item.action or item[2]
        if pick(a) then
          return on_choice(item, i)
        end
      end
      error('no code action to pick among ' .. #items)
    end
  end

  local function wait_modified()
    assert(vim.wait(timeout, function() return vim.bo[buf].modified end, 20), 'the buffer did not change')
  end

  if action == 'fixall' then
    choose(function(a) return a.kind == 'source.fixAll.apimfix' end)
    vim.lsp.buf.code_action({ only = { 'source.fixAll' } })
    wait_modified()
  elseif action == 'quickfix' then
    local first = vim.diagnostic.get(buf)[1]
    assert(first, 'a finding to fix')
    vim.api.nvim_win_set_cursor(0, { first.lnum + 1, first.col })
    choose(function(a) return a.kind == 'quickfix' and a.isPreferred end)
    vim.lsp.buf.code_action({ only = { 'quickfix' } })
    wait_modified()
  elseif action == 'format' then
    if vim.lsp.buf.format then
      vim.lsp.buf.format({ timeout_ms = timeout })
    else
      vim.lsp.buf.formatting_sync(nil, timeout)
    end
  end
  vim.cmd('write')
  write_out({ diagnostics = diagnostics })
end

local ok, err = pcall(run)
if ok then
  vim.cmd('qall!')
else
  write_out({ error = tostring(err) })
  vim.cmd('cquit!')
end
