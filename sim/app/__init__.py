"""The seminar app: two escalation models side by side in the browser (``escalation-app``)."""
