//! Text, JSON and the Markdown handover document. OWNER: helper i14-design.
