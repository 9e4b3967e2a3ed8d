// BackupScheduleConfig: one scheduled backup (docs/schedules.md), as the
// `schedules:` section of `ark serve`'s YAML file describes it. It lives in
// dr/ because the scheduler (dr/schedule/backup_scheduler.h) runs it; the
// server's config loader (server/server_config.h) only fills it in.
#pragma once

#include <string>
#include <vector>

namespace ark::dr {

struct BackupScheduleConfig {
  std::string name;                      // backups are named "<name>-YYYYMMDD-HHMMSS"
  std::string cron;                      // 5-field cron or @daily etc., in UTC
  std::string repo;                      // repository URL
  std::string key_file;                  // encryption key (optional)
  std::string passphrase_file;           // or passphrase (optional)
  std::vector<std::string> collections;  // empty: all
  int parallel = 4;
  // Retention applied after each successful run (all zero: none).
  int keep_last = 0;
  int keep_days = 0;
  int keep_daily = 0;
  int keep_weekly = 0;
  int keep_monthly = 0;
};

}  // namespace ark::dr
