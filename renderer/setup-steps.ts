/**
 * How to connect SingleFile, from SingleFile's own "Webhook Setup" page (../shared/seed/). The
 * `labels` are SingleFile's words for what to click, quoted exactly so that people find them on
 * screen; a test checks each against that page.
 */
export interface SetupStep {
  title: string;
  items: readonly string[];
  labels: readonly string[];
  /** Shown as a warning: the step people miss. */
  important?: string;
}

export const SETUP_STEPS: readonly SetupStep[] = [
  {
    title: 'Open the webhook settings',
    items: [
      'Log into your SingleFile account.',
      'Click the user icon at the top right of the screen, then “Profile Settings”.',
      'On the “Profile” tab, click “Webhook Settings”.',
    ],
    labels: ['Profile Settings', 'Webhook Settings', 'Profile'],
  },
  {
    title: 'Turn on webhook notifications',
    items: ['Toggle the switch to the right of “Webhook Notifications”.'],
    labels: ['Webhook Notifications'],
  },
  {
    title: 'Add this computer as an endpoint',
    items: [
      'Click “+ Add Endpoint”.',
      '“Endpoint URL”: paste the webhook URL shown above. It must be HTTPS.',
      '“Description” (optional): for example “SingleFile Monitor”.',
    ],
    labels: ['+ Add Endpoint', 'Endpoint URL', 'Description'],
  },
  {
    title: 'Choose the events',
    items: ['Leave “Event Types” empty to receive all eleven events, or pick only the ones you need.'],
    labels: ['Event Types'],
  },
  {
    title: 'Create the endpoint, then enable it',
    items: ['Click “Create Endpoint”.', 'Switch the new endpoint on from the webhook settings page.'],
    labels: ['Create Endpoint'],
    important: 'New endpoints start disabled. SingleFile sends nothing until you enable the endpoint.',
  },
];
