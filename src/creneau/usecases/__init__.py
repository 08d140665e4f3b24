"""The use cases: what the command line and the dashboard both call (check a target once,
the CAPTCHA hand-off, add or edit a target, retry an alert, export evidence). Neither holds
logic of its own: the command line reads click options and prints with Rich, the dashboard
reads form fields and renders Jinja pages, and both call these."""
