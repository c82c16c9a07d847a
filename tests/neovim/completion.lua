-- Drive the nanopilot server from Neovim 0.7's built-in LSP client (run by tests/test_neovim.py).
-- Environment: NANOPILOT_SERVER_CMD (JSON list), NANOPILOT_FILE (a Python file to open),
-- NANOPILOT_LINE / NANOPILOT_COL (0-based cursor), NANOPILOT_RESULT (where to write JSON).

local function run()
  local cmd = vim.fn.json_decode(os.getenv("NANOPILOT_SERVER_CMD"))
  local file = os.getenv("NANOPILOT_FILE")
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "nanopilot",
    cmd = cmd,
    root_dir = vim.fn.fnamemodify(file, ":h"),
    init_options = { nanopilot = { temperature = 0, multiline = "never" } },
  })
  assert(client_id, "vim.lsp.start_client failed")
  vim.lsp.buf_attach_client(bufnr, client_id)
  local client = vim.lsp.get_client_by_id(client_id)

  local state = "not started"
  local ready = vim.wait(120000, function()
    if not client.initialized then
      return false
    end
    local reply = client.request_sync("workspace/executeCommand", { command = "nanopilot.status" }, 5000, bufnr)
    state = reply and reply.result and reply.result.state or state
    return state == "ready"
  end, 200)
  assert(ready, "server not ready: " .. state)

  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = tonumber(os.getenv("NANOPILOT_LINE")), character = tonumber(os.getenv("NANOPILOT_COL")) },
  }
  local replies = vim.lsp.buf_request_sync(bufnr, "textDocument/completion", params, 30000)
  local items = {}
  for _, reply in pairs(replies or {}) do
    for _, item in ipairs((reply.result or {}).items or {}) do
      table.insert(items, { label = item.label, newText = item.textEdit and item.textEdit.newText })
    end
  end
  -- What the omnifunc would insert, through Neovim's own conversion of the items.
  local words = {}
  for _, reply in pairs(replies or {}) do
    for _, entry in ipairs(vim.lsp.util.text_document_completion_list_to_complete_items(reply.result, "")) do
      table.insert(words, entry.word)
    end
  end
  return { items = items, words = words }
end

local ok, result = pcall(run)
local output = ok and result or { error = tostring(result) }
vim.fn.writefile({ vim.fn.json_encode(output) }, os.getenv("NANOPILOT_RESULT"))
vim.lsp.stop_client(vim.lsp.get_active_clients())
vim.cmd(ok and "qall!" or "cquit 1")
