/** The tool-call and JSON-mode grammars live with the chat service (`src/chat/tool-grammars.ts`); re-exported here. */
export {
  lazyToolCallGrammar,
  forcedToolCallGrammar,
  jsonModeGrammar,
  jsonOrToolCallsGrammar,
  TOOL_CALL_TRIGGER,
  type LazyToolCallGrammarOptions,
  type ForcedToolCallGrammarOptions,
} from "../chat/tool-grammars.js";
