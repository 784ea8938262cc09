// Page objects: what a reader sees on each page, found by role and label.
import type { Locator, Page } from '@playwright/test';
import { hydrated } from './fixtures';

export class PortfolioPage {
  readonly projects: Locator;
  readonly filter: Locator;
  readonly count: Locator;

  constructor(readonly page: Page) {
    this.projects = page.getByRole('list', { name: 'Projects' }).getByRole('listitem').filter({ has: page.getByRole('heading') });
    this.filter = page.getByRole('searchbox', { name: 'Filter projects' });
    this.count = page.getByText(/\d+ of \d+ projects/);
  }

  async open() {
    await this.page.goto('/');
    await hydrated(this.page);
  }

  project(name: string): Locator {
    return this.projects.filter({ has: this.page.getByRole('heading', { name }) });
  }

  reportLinks(): Locator {
    return this.page.locator('a[href^="/reports/"]');
  }
}

export class ReportPage {
  readonly heading: Locator;
  readonly sections: Locator;
  readonly contents: Locator;
  readonly priorityFilter: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1 });
    this.sections = page.locator('section.report-section h2:visible');
    this.contents = page.getByRole('navigation', { name: 'Contents' });
    this.priorityFilter = page.getByRole('group', { name: 'Show sections by priority' });
  }

  async open(id: number | string) {
    await this.page.goto(`/reports/${id}`);
    await hydrated(this.page);
  }

  showOnly(label: RegExp): Locator {
    return this.priorityFilter.getByRole('button', { name: label });
  }
}
